"""Built-in Rollbook backend plugins, registered through the ``rollbook.plugins`` entry point
group exactly like third-party ones (``embedded = "plugins.embedded:plugin"``)."""
