"""Everything that makes data and models. Never imports gradio; the studio and the CLI call in here."""
