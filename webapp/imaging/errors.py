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


class AnimationTooLarge(InvalidImage):
    """An animation whose frames, all decoded in turn to moderate each, hold too many pixels in all."""

    code = "animation_too_large"
    status = 422
    message = "The animation is too large to moderate."


class TooManyScans(InvalidImage):
    """A JPEG made of more scans than any encoder writes: each one is another pass over the picture."""

    code = "too_many_scans"
    status = 422
    message = "The JPEG has too many scans."


class TooLargeToDecode(InvalidImage):
    """Decoding the image would need more memory than this server gives one decode."""

    code = "too_large_to_decode"
    status = 422
    message = "The image needs more memory to decode than this server allows."


class DecodeTooSlow(InvalidImage):
    """Decoding the image took more CPU time than this server gives one decode."""

    code = "decode_too_slow"
    status = 422
    message = "Decoding the image took longer than this server allows."
