"""Built-in plugins that use the public hooks exactly as a third party would."""
