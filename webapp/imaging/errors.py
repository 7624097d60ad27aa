"""Why an upload is not an image we accept: each reason with its API error code and HTTP status."""

from webapp.errors import AppError


class InvalidImage(AppError):
    """An upload that is not an image we accept (answered like every other AppError)."""

    code = "invalid_image"
    status = 422
    message = "The file is not an image we can accept."


class EmptyFile(InvalidImage):
    """The upload has no bytes at all."""

    code = "empty_file"
    status = 422
    message = "The file is empty."


class UnsupportedImage(InvalidImage):
    """The upload is not an image, or is one in a format we do not take."""

    code = "unsupported_image"
    status = 415
    message = "The file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image."


class CorruptImage(InvalidImage):
    """The upload looks like an accepted image but cannot be fully decoded."""

    code = "corrupt_image"
    status = 422
    message = "The image is damaged or incomplete and cannot be read."


class TooManyPixels(InvalidImage):
    """The image has more pixels than we are willing to decode."""

    code = "too_many_pixels"
    status = 422
    message = "The image has too many pixels."


class TooManyFrames(InvalidImage):
    """The image is an animation or sequence with more frames than we take."""

    code = "too_many_frames"
    status = 422
    message = "The image has too many frames."
