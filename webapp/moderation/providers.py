"""The providers a job can choose, and each provider's one instance per process."""

from flask import current_app

from webapp.errors import AppError
from webapp.moderation import rekognition
from webapp.moderation.policy import DEFAULT_FLAG, DEFAULT_REJECT, Policy, parse_thresholds

LOCAL = "local"
REKOGNITION = "rekognition"
REKOGNITION_BULK = "rekognition_bulk"
EXTERNAL = "external"
PROVIDERS = (LOCAL, REKOGNITION, REKOGNITION_BULK, EXTERNAL)
# Providers that moderate a whole job at once, after every photo of it is processed.
JOB_LEVEL_PROVIDERS = frozenset({REKOGNITION_BULK})
NEEDS_S3 = frozenset({REKOGNITION, REKOGNITION_BULK})


class UnknownProvider(AppError):
    code = "unknown_provider"
    status = 422


class ProviderUnavailable(AppError):
    code = "provider_unavailable"
    status = 422


def choose_provider(requested: str | None) -> str:
    """The provider a new photo or job uses: the one asked for, else the configured default."""
    name = (requested or current_app.config["MODERATION_PROVIDER"]).strip()
    if name not in PROVIDERS:
        raise UnknownProvider(f"Unknown moderation provider {name!r}; choose one of {', '.join(PROVIDERS)}.")
    config = current_app.config
    signing_secret = config["EXTERNAL_MODERATION_SECRET"] or config["MODERATION_WEBHOOK_SECRET"]
    if name == EXTERNAL and not (config["EXTERNAL_MODERATION_URL"] and signing_secret.strip()):
        raise ProviderUnavailable(
            "The external provider needs EXTERNAL_MODERATION_URL and a secret to sign with "
            "(EXTERNAL_MODERATION_SECRET or MODERATION_WEBHOOK_SECRET)."
        )
    if name in NEEDS_S3 and not config["S3_BUCKET"]:
        raise ProviderUnavailable(
            f"The {name} provider reads photos from S3; this server stores them on disk."
        )
    return name


def policy() -> Policy:
    """The thresholds in force, from configuration."""
    config = current_app.config
    return Policy(
        reject=parse_thresholds(config["MODERATION_REJECT"], DEFAULT_REJECT),
        flag=parse_thresholds(config["MODERATION_FLAG"], DEFAULT_FLAG),
    )


def local_model():
    """The bundled model, loaded once per process."""
    # Imported here: the web process never moderates, and need not load ONNX Runtime and numpy.
    from webapp.moderation.local import load_model

    return load_model()


def rekognition_client():
    """The process's one Rekognition client (creating a boto3 client costs ~80 ms)."""
    config = current_app.config
    return rekognition.rekognition_client(
        config["REKOGNITION_REGION"] or config["S3_REGION"], config["REKOGNITION_ENDPOINT_URL"]
    )


def rekognition_moderator() -> rekognition.RekognitionModerator:
    """A moderator on the process's Rekognition client."""
    return rekognition.RekognitionModerator(
        rekognition_client(), current_app.config["MODERATION_MIN_CONFIDENCE"]
    )


def preload(provider: str) -> None:
    """Create what the default provider needs before a worker forks its jobs, so each job inherits it."""
    if provider == LOCAL:
        local_model()
    elif provider in NEEDS_S3:
        rekognition_client()
