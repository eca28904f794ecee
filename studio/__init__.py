"""The Gradio UI only: one module per tab, thin callbacks, no SQL, no torch."""
