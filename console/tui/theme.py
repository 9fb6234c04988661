"""The default high-contrast theme."""

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="rollbook-high-contrast",
    primary="#5fafff",
    secondary="#ffd75f",
    accent="#ffff00",
    foreground="#ffffff",
    background="#000000",
    surface="#121212",
    panel="#1c1c1c",
    success="#00ff5f",
    warning="#ffaf00",
    error="#ff3030",
    dark=True,
)
