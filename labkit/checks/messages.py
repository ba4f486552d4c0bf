"""The words a student reads when a check passes or fails: one table, easy to translate.

Lab-specific hints are written in the notebooks; these are the shared phrases around them.
A pt-BR edition replaces this table, not the code.
"""

MESSAGES = {
    "en": {
        "pass": "\u2713 {what}",
        "fail": "\u2717 {what}: {detail}",
        "expected": "expected {expected}, got {got}",
        "type": "expected a {expected}, got a {got}",
        "length": "expected {expected} item(s), got {got}",
        "close": "expected {expected} (within {tolerance}), got {got}",
        "missing_key": "item {index} has no key '{key}' (it has: {keys})",
        "not_true": "the condition does not hold",
        "raises": "expected {expected} to be raised, but {got}",
        "raised_nothing": "nothing was raised",
        "raised_other": "{got} was raised instead",
        "raised": "it raised {got}",
        "hint": "Hint: {hint}",
        "hidden": ("[hidden test] your answer passed the visible checks but not this one, "
                   "which tries other inputs of the same kind:"),
        "where": " (in {function}, line {line}: {text})",
        "wrong_label": "{got} is not the right answer here",
        "not_a_choice": "{got} is not one of {choices}",
        "not_implemented": ("this exercise is not answered yet: replace "
                            "'raise NotImplementedError()' with your code"),
    },
}

LANGUAGE = "en"


def message(name: str, /, **fields) -> str:
    """The phrase ``name`` in the course language, filled with ``fields``."""
    return MESSAGES[LANGUAGE][name].format(**fields)
