"""Generated Godot engine API tables (godot3.json, godot4.json) and the script that makes them
(generate.py names each source, version and license). Read by evals.validity.engine_api."""
