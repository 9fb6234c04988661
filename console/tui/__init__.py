"""The Textual console. It renders state read from the core and sends intents to it; it
holds no business logic. Imported only when the TUI opens."""
