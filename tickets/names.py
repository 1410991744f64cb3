"""How people's names are written."""


def full_name(first_name: str, last_name: str) -> str:
    """Return the name as its language writes it: 陈调度, but John Smith."""
    if f"{first_name}{last_name}".isascii():
        return f"{first_name} {last_name}".strip()
    return f"{last_name}{first_name}"
