"""Paths to ask the app's routes at, made from their rules."""

import re
import uuid

ROUTE_ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?\w+>")


def example_path(rule: str) -> str:
    """A path `rule` matches: a random id for each argument, the first choice of an `any(...)`."""

    def argument(match: re.Match) -> str:
        converter, choices = match.groups()
        if converter == "any":
            return choices.split(",")[0].strip().strip("'\"")
        return str(uuid.uuid4())

    return ROUTE_ARGUMENT.sub(argument, rule)
