"""Source of the Godot 3 development set (gdscript3_dev.jsonl) for the static-vs-compiler work of
issue 14. NOT the blind set: every answer here was written by hand for this set, in the style of a
model answering a Godot 3 instruction, then varied with faults a model makes (typos, Godot 4 API
under Godot 3, wrong argument counts, members a typed engine value lacks, bad operators, calls to
user-made methods the amend protocol stubs). Labels come from the real compiler, not from a
person: ``benchmarks/validity_godot3_dev.py --label`` runs the project's compile level
(godot3-server 3.2.3 --check-only in the sandbox, on the answer plus the reviewer's stubs).

Each base is (id, instruction, code with 4-space indentation -> tabs); each variant is
(suffix, [(old, new), ...]) applied to the base's code with str.replace (each old must occur).
"""
from __future__ import annotations

BASES = []


def base(key, instruction, code, *variants):
    BASES.append((key, instruction, code, variants))


base("move", "Godot 3: top-down player movement with KinematicBody2D and input actions.", """
extends KinematicBody2D

export var speed = 200
var velocity = Vector2.ZERO

func get_input():
    velocity = Vector2.ZERO
    if Input.is_action_pressed("ui_right"):
        velocity.x += 1
    if Input.is_action_pressed("ui_left"):
        velocity.x -= 1
    if Input.is_action_pressed("ui_down"):
        velocity.y += 1
    if Input.is_action_pressed("ui_up"):
        velocity.y -= 1
    velocity = velocity.normalized() * speed

func _physics_process(delta):
    get_input()
    velocity = move_and_slide(velocity)
""",
     ("typo-normalize", [("velocity.normalized()", "velocity.normalize()")]),
     ("g4-noargs", [("move_and_slide(velocity)", "move_and_slide()")]),
     ("typo-input", [('Input.is_action_pressed("ui_up")', 'Input.is_action_presed("ui_up")')]),
     ("user-call", [("get_input()\n    velocity", "get_input()\n    update_animation(velocity)\n    velocity")]),
     ("g4-velocity-prop", [("velocity = move_and_slide(velocity)", "move_and_slide()\n    print(up_direction)")]))

base("jump", "Godot 3 platformer: gravity, jump and move_and_slide with a floor normal.", """
extends KinematicBody2D

const GRAVITY = 980.0
const JUMP_SPEED = -420.0
export (int) var run_speed = 180

var velocity := Vector2()

func _physics_process(delta: float) -> void:
    velocity.y += GRAVITY * delta
    var dir := Input.get_action_strength("ui_right") - Input.get_action_strength("ui_left")
    velocity.x = dir * run_speed
    if is_on_floor() and Input.is_action_just_pressed("jump"):
        velocity.y = JUMP_SPEED
    velocity = move_and_slide(velocity, Vector2.UP)
""",
     ("g4-axis", [('Input.get_action_strength("ui_right") - Input.get_action_strength("ui_left")',
                   'Input.get_axis("ui_left", "ui_right")')]),
     ("str-op", [("velocity.x = dir * run_speed", 'velocity.x = dir * run_speed + "px"')]),
     ("typed-int-str", [("var dir :=", "var label: String = 5\n    var dir :=")]),
     ("too-many-args", [("is_on_floor()", "is_on_floor(Vector2.UP)")]))

base("signal", "In Godot 3, declare a health signal and emit it when the player takes damage.", """
extends Node

signal health_changed(new_health)
signal died

var health = 100

func take_damage(amount):
    health -= amount
    emit_signal("health_changed", health)
    if health <= 0:
        emit_signal("died")
        queue_free()
""",
     ("g4-emit", [('emit_signal("died")', "died.emit()")]),
     ("g4-emit-args", [('emit_signal("health_changed", health)', "health_changed.emit(health)")]),
     ("typo-free", [("queue_free()", "queue_fre()")]),
     ("undefined-var", [("health -= amount", "health -= amount * armor_factor")]))

base("connect", "Godot 3: connect a Button's pressed signal in code and change a Label's text.", """
extends Control

onready var button = $Button
onready var label = $Label

func _ready():
    button.connect("pressed", self, "_on_button_pressed")

func _on_button_pressed():
    label.text = "Clicked!"
""",
     ("g4-connect", [('button.connect("pressed", self, "_on_button_pressed")',
                      "button.pressed.connect(_on_button_pressed)")]),
     ("g4-connect-self", [('button.connect("pressed", self, "_on_button_pressed")',
                           'connect("ready", _on_button_pressed)')]),
     ("typed-node", [("onready var label = $Label", "onready var label: Label = $Label"),
                     ('label.text = "Clicked!"', 'label.set_txt("Clicked!")')]),
     ("typed-ok", [("onready var label = $Label", "onready var label: Label = $Label"),
                   ('label.text = "Clicked!"', 'label.set_text("Clicked!")')]))

base("timer", "Godot 3: create a Timer from code that spawns an enemy every 2 seconds.", """
extends Node2D

export (PackedScene) var enemy_scene
var spawn_timer

func _ready():
    spawn_timer = Timer.new()
    spawn_timer.wait_time = 2.0
    spawn_timer.one_shot = false
    add_child(spawn_timer)
    spawn_timer.connect("timeout", self, "_on_spawn_timeout")
    spawn_timer.start()

func _on_spawn_timeout():
    var enemy = enemy_scene.instance()
    enemy.position = Vector2(rand_range(0, 800), 0)
    add_child(enemy)
""",
     ("g4-instantiate", [("enemy_scene.instance()", "enemy_scene.instantiate()")]),
     ("g4-randf", [("rand_range(0, 800)", "randf_range(0, 800)")]),
     ("typed-timer-typo", [("var spawn_timer\n", "var spawn_timer: Timer\n"), ("spawn_timer.start()", "spawn_timer.begin()")]),
     ("untyped-timer-typo", [("spawn_timer.start()", "spawn_timer.begin()")]),
     ("add-child-args", [("add_child(enemy)", "add_child(enemy, true, 5, 6)")]))

base("yield", "Godot 3: wait one second with yield before showing the game over screen.", """
extends CanvasLayer

func show_game_over():
    $Message.text = "Game Over"
    $Message.show()
    yield(get_tree().create_timer(1.0), "timeout")
    $StartButton.show()
""",
     ("g4-await", [('yield(get_tree().create_timer(1.0), "timeout")', "await get_tree().create_timer(1.0).timeout")]),
     ("typo-timer", [("create_timer(1.0)", "create_timr(1.0)")]),
     ("timer-args", [("create_timer(1.0)", "create_timer()")]),
     ("visible", [("$StartButton.show()", "$StartButton.visible = true\n    $StartButton.set_visible(true, 1)")]))

base("tween", "Godot 3: fade a sprite out with the Tween node.", """
extends Sprite

onready var tween = $Tween

func fade_out(duration = 0.5):
    tween.interpolate_property(self, "modulate", Color(1, 1, 1, 1), Color(1, 1, 1, 0),
            duration, Tween.TRANS_LINEAR, Tween.EASE_IN)
    tween.start()
    yield(tween, "tween_completed")
    queue_free()
""",
     ("g4-create-tween", [("    tween.interpolate_property(self, \"modulate\", Color(1, 1, 1, 1), Color(1, 1, 1, 0),\n            duration, Tween.TRANS_LINEAR, Tween.EASE_IN)\n    tween.start()\n    yield(tween, \"tween_completed\")",
                           "    var t = create_tween()\n    t.tween_property(self, \"modulate:a\", 0.0, duration)\n    yield(t, \"finished\")")]),
     ("g4-sprite2d", [("extends Sprite", "extends Sprite2D")]),
     ("tween-new-typo", [("onready var tween = $Tween", "var tween := Tween.new()"),
                         ("tween.start()", "add_child(tween)\n    tween.start()\n    tween.play()")]),
     ("tween-new-ok", [("onready var tween = $Tween", "var tween := Tween.new()"),
                       ("tween.start()", "add_child(tween)\n    tween.start()")]))

base("setget", "Godot 3: an exported health variable with setget that clamps the value.", """
extends Node

export var max_health = 100
var health = 100 setget set_health, get_health

func set_health(value):
    health = clamp(value, 0, max_health)

func get_health():
    return health
""",
     ("g4-setter", [("var health = 100 setget set_health, get_health", "var health = 100:\n    set(value):\n        health = clamp(value, 0, max_health)")]),
     ("clamp-args", [("clamp(value, 0, max_health)", "clamp(value, max_health)")]),
     ("g4-clampi", [("clamp(value, 0, max_health)", "clampi(value, 0, max_health)")]),
     ("missing-setter", [("setget set_health, get_health", "setget set_hp")]))

base("file", "Godot 3: save and load a dictionary as JSON with the File class.", """
extends Node

const SAVE_PATH = "user://save.json"

func save_game(data):
    var file = File.new()
    file.open(SAVE_PATH, File.WRITE)
    file.store_string(to_json(data))
    file.close()

func load_game():
    var file = File.new()
    if not file.file_exists(SAVE_PATH):
        return {}
    file.open(SAVE_PATH, File.READ)
    var data = parse_json(file.get_as_text())
    file.close()
    return data
""",
     ("g4-fileaccess", [("var file = File.new()\n    file.open(SAVE_PATH, File.WRITE)", "var file = FileAccess.open(SAVE_PATH, FileAccess.WRITE)")]),
     ("g4-json-stringify", [("to_json(data)", "JSON.stringify(data)")]),
     ("typed-file-typo", [("var file = File.new()\n    file.open(SAVE_PATH, File.WRITE)", "var file := File.new()\n    file.open(SAVE_PATH, File.WRITE)\n    file.store_text(\"x\")")]),
     ("file-open-args", [("file.open(SAVE_PATH, File.READ)", "file.open(SAVE_PATH)")]),
     ("json-parse", [("var data = parse_json(file.get_as_text())", "var data = JSON.parse(file.get_as_text()).result")]))

base("ui", "Godot 3: update a score Label and a ProgressBar from a HUD script.", """
extends Control

onready var score_label: Label = $ScoreLabel
onready var health_bar: ProgressBar = $HealthBar

func update_score(score: int) -> void:
    score_label.text = "Score: " + str(score)

func update_health(value: float) -> void:
    health_bar.value = value
""",
     ("int-plus-str", [('"Score: " + str(score)', '"Score: " + score')]),
     ("typo-prop", [("health_bar.value = value", "health_bar.valeu = value")]),
     ("method-typo", [("health_bar.value = value", "health_bar.set_val(value)")]),
     ("g4-text-method", [('score_label.text = "Score: " + str(score)', 'score_label.text = "Score: %d" % score\n    score_label.add_theme_color_override("font_color", Color.RED)')]))

base("area", "Godot 3: an Area2D coin that adds to the score when the player enters.", """
extends Area2D

signal collected

export var value = 1

func _ready():
    connect("body_entered", self, "_on_body_entered")

func _on_body_entered(body):
    if body.is_in_group("player"):
        body.add_score(value)
        emit_signal("collected")
        queue_free()
""",
     ("typed-body", [("func _on_body_entered(body):", "func _on_body_entered(body: KinematicBody2D):")]),
     ("typed-body-typo", [("func _on_body_entered(body):", "func _on_body_entered(body: Node):"),
                          ('body.is_in_group("player")', 'body.is_in_groups("player")')]),
     ("g4-body", [("func _on_body_entered(body):", "func _on_body_entered(body: CharacterBody2D):")]),
     ("emit-callable", [('connect("body_entered", self, "_on_body_entered")', 'connect("body_entered", self, _on_body_entered)')]))

base("camera", "Godot 3: a Camera2D that shakes with a random offset.", """
extends Camera2D

var shake_amount = 0.0
export var decay = 0.8

func _process(delta):
    if shake_amount > 0:
        offset = Vector2(rand_range(-1, 1), rand_range(-1, 1)) * shake_amount
        shake_amount = max(shake_amount - decay * delta, 0)
    else:
        offset = Vector2.ZERO

func shake(amount):
    shake_amount = amount
""",
     ("g4-randf", [("rand_range(-1, 1), rand_range(-1, 1)", "randf_range(-1, 1), randf_range(-1, 1)")]),
     ("vec-typo", [("Vector2.ZERO", "Vector2.Zero")]),
     ("max-args", [("max(shake_amount - decay * delta, 0)", "max(shake_amount - decay * delta)")]),
     ("g4-current", [("shake_amount = amount", "shake_amount = amount\n    make_current()\n    enabled = true")]))

base("raycast", "Godot 3: cast a ray in _physics_process with the direct space state.", """
extends Node2D

func _physics_process(_delta):
    var space_state = get_world_2d().direct_space_state
    var result = space_state.intersect_ray(global_position, global_position + Vector2(0, 100), [self])
    if result:
        print("Hit: ", result.collider.name)
""",
     ("g4-query", [("space_state.intersect_ray(global_position, global_position + Vector2(0, 100), [self])",
                    "space_state.intersect_ray(PhysicsRayQueryParameters2D.create(global_position, global_position + Vector2(0, 100)))")]),
     ("typo-world", [("get_world_2d()", "get_world2d()")]),
     ("typed-space", [("var space_state = get_world_2d().direct_space_state", "var space_state: Physics2DDirectSpaceState = get_world_2d().direct_space_state")]),
     ("typed-space-typo", [("var space_state = get_world_2d().direct_space_state\n    var result = space_state.intersect_ray(",
                            "var space_state: Physics2DDirectSpaceState = get_world_2d().direct_space_state\n    var result = space_state.cast_ray(")]))

base("anim", "Godot 3: play run/idle animations on an AnimatedSprite based on velocity.", """
extends KinematicBody2D

onready var sprite = $AnimatedSprite
var velocity = Vector2()

func _physics_process(delta):
    velocity.x = Input.get_action_strength("right") - Input.get_action_strength("left")
    velocity = move_and_slide(velocity * 150)
    if velocity.length() > 0:
        sprite.play("run")
        sprite.flip_h = velocity.x < 0
    else:
        sprite.play("idle")
""",
     ("typed-sprite-typo", [("onready var sprite = $AnimatedSprite", "onready var sprite: AnimatedSprite = $AnimatedSprite"),
                            ('sprite.play("idle")', 'sprite.play_animation("idle")')]),
     ("typed-sprite-ok", [("onready var sprite = $AnimatedSprite", "onready var sprite: AnimatedSprite = $AnimatedSprite")]),
     ("len-typo", [("velocity.length()", "velocity.len()")]),
     ("g4-sprite2d", [("onready var sprite = $AnimatedSprite", "onready var sprite: AnimatedSprite2D = $AnimatedSprite")]))

base("inventory", "Godot 3: a simple inventory with add/remove and an items_changed signal.", """
extends Node

signal items_changed

var items = []
export var max_items = 10

func add_item(item_name: String) -> bool:
    if items.size() >= max_items:
        return false
    items.append(item_name)
    emit_signal("items_changed")
    return true

func remove_item(item_name: String) -> void:
    items.erase(item_name)
    emit_signal("items_changed")

func has_item(item_name):
    return item_name in items
""",
     ("void-return", [("    items.erase(item_name)\n", "    items.erase(item_name)\n    return true\n")]),
     ("array-typo", [("items.append(item_name)", "items.add(item_name)")]),
     ("typed-array-typo", [("var items = []", "var items: Array = []"), ("items.append(item_name)", "items.push(item_name)")]),
     ("g4-typed-array", [("var items = []", "var items: Array[String] = []")]),
     ("dup-func", [("func has_item(item_name):", "func add_item(item_name):")]))

base("enemy", "Godot 3: an enemy that follows the player when it is close enough.", """
extends KinematicBody2D

export var speed = 80
export var chase_distance = 300
var player = null

func _ready():
    player = get_tree().get_nodes_in_group("player")[0]

func _physics_process(delta):
    if player == null:
        return
    var to_player = player.global_position - global_position
    if to_player.length() < chase_distance:
        move_and_slide(to_player.normalized() * speed)
        look_at(player.global_position)
""",
     ("tree-typo", [("get_tree().get_nodes_in_group", "get_tree().get_nodes_in_grp")]),
     ("g4-dist", [("to_player.length()", "to_player.length_squared_to()")]),
     ("g4-change-scene", [("        return\n", "        get_tree().change_scene_to_file(\"res://Main.tscn\")\n        return\n")]),
     ("change-scene-ok", [("        return\n", "        get_tree().change_scene(\"res://Main.tscn\")\n        return\n")]),
     ("lookat-args", [("look_at(player.global_position)", "look_at(player.global_position, Vector2.UP)")]))

base("scene", "Godot 3: instance a bullet scene and fire it from a gun node.", """
extends Position2D

const Bullet = preload("res://Bullet.tscn")
export var bullet_speed = 600.0

func shoot(direction: Vector2):
    var bullet = Bullet.instance()
    bullet.global_position = global_position
    bullet.rotation = direction.angle()
    bullet.linear_velocity = direction * bullet_speed
    get_tree().current_scene.add_child(bullet)
""",
     ("g4-marker", [("extends Position2D", "extends Marker2D")]),
     ("angle-typo", [("direction.angle()", "direction.get_angle()")]),
     ("vec-op", [("direction * bullet_speed", 'direction * "fast"')]),
     ("vec-vec-op", [("direction * bullet_speed", "direction * Vector3(1, 1, 1)")]))

base("save_cfg", "Godot 3: store settings with ConfigFile.", """
extends Node

var config = ConfigFile.new()

func save_settings(volume: float, fullscreen: bool):
    config.set_value("audio", "volume", volume)
    config.set_value("video", "fullscreen", fullscreen)
    config.save("user://settings.cfg")

func load_settings():
    var err = config.load("user://settings.cfg")
    if err != OK:
        return
    OS.window_fullscreen = config.get_value("video", "fullscreen", false)
""",
     ("g4-display", [("OS.window_fullscreen = config.get_value(\"video\", \"fullscreen\", false)",
                      "DisplayServer.window_set_mode(DisplayServer.WINDOW_MODE_FULLSCREEN)")]),
     ("cfg-typo", [('config.set_value("audio", "volume", volume)', 'config.set_val("audio", "volume", volume)')]),
     ("cfg-typed-typo", [("var config = ConfigFile.new()", "var config := ConfigFile.new()"),
                         ('config.set_value("audio", "volume", volume)', 'config.put_value("audio", "volume", volume)')]),
     ("os-typo", [("OS.window_fullscreen", "OS.fullscreen")]))

base("input_event", "Godot 3: handle mouse clicks and key presses in _unhandled_input.", """
extends Node2D

func _unhandled_input(event):
    if event is InputEventMouseButton and event.pressed and event.button_index == BUTTON_LEFT:
        print("Clicked at ", event.position)
    elif event is InputEventKey and event.pressed and event.scancode == KEY_ESCAPE:
        get_tree().quit()
""",
     ("g4-mouse", [("BUTTON_LEFT", "MOUSE_BUTTON_LEFT")]),
     ("g4-keycode", [("event.scancode", "event.keycode")]),
     ("quit-args", [("get_tree().quit()", "get_tree().quit(0, 1)")]),
     ("handled", [("get_tree().quit()", "get_tree().set_input_as_handled()")]),
     ("g4-handled", [("get_tree().quit()", "get_viewport().set_input_as_handled()")]))

base("rigid", "Godot 3: apply an impulse to a RigidBody2D when space is pressed.", """
extends RigidBody2D

export var jump_impulse = 400

func _integrate_forces(state):
    if Input.is_action_just_pressed("ui_accept"):
        apply_central_impulse(Vector2.UP * jump_impulse)
""",
     ("g4-rigid", [("extends RigidBody2D", "extends RigidBody3D")]),
     ("impulse-args", [("apply_central_impulse(Vector2.UP * jump_impulse)", "apply_impulse(Vector2.UP * jump_impulse)")]),
     ("impulse-ok", [("apply_central_impulse(Vector2.UP * jump_impulse)", "apply_impulse(Vector2.ZERO, Vector2.UP * jump_impulse)")]),
     ("typed-state", [("func _integrate_forces(state):", "func _integrate_forces(state: Physics2DDirectBodyState):\n    state.linear_velocity.x = clamp(state.linear_velocity.x, -200, 200)")]))

base("dict", "Godot 3: count word frequencies in a string with a Dictionary.", """
extends Node

func count_words(text: String) -> Dictionary:
    var counts = {}
    for word in text.to_lower().split(" ", false):
        if counts.has(word):
            counts[word] += 1
        else:
            counts[word] = 1
    return counts

func _ready():
    var result = count_words("the cat and the hat")
    for key in result.keys():
        print(key, ": ", result[key])
""",
     ("str-typo", [("text.to_lower()", "text.lower()")]),
     ("dict-typo", [("counts.has(word)", "counts.contains(word)")]),
     ("split-args", [('text.to_lower().split(" ", false)', "text.to_lower().split()")]),
     ("return-int", [("    return counts\n", "    return counts.size()\n")]),
     ("str-minus", [('print(key, ": ", result[key])', 'print(key - ": ")')]))

base("math", "Godot 3: helper functions for angles and random points.", """
extends Node

func random_point_in_circle(radius: float) -> Vector2:
    var angle = randf() * TAU
    var r = sqrt(randf()) * radius
    return Vector2(cos(angle), sin(angle)) * r

func lerp_angle_deg(from: float, to: float, weight: float) -> float:
    return rad2deg(lerp_angle(deg2rad(from), deg2rad(to), weight))
""",
     ("g4-deg", [("rad2deg(lerp_angle(deg2rad(from), deg2rad(to), weight))", "rad_to_deg(lerp_angle(deg_to_rad(from), deg_to_rad(to), weight))")]),
     ("sqrt-args", [("sqrt(randf())", "sqrt(randf(), 2)")]),
     ("vec-ctor", [("Vector2(cos(angle), sin(angle))", "Vector2(cos(angle), sin(angle), 0)")]),
     ("return-str", [("    return Vector2(cos(angle), sin(angle)) * r\n", "    return \"point\"\n")]))

base("http", "Godot 3: make a GET request with HTTPRequest and parse the JSON body.", """
extends Node

func _ready():
    var http = HTTPRequest.new()
    add_child(http)
    http.connect("request_completed", self, "_on_request_completed")
    http.request("https://api.example.com/data")

func _on_request_completed(result, response_code, headers, body):
    var json = JSON.parse(body.get_string_from_utf8())
    if json.error == OK:
        print(json.result)
""",
     ("g4-json", [("var json = JSON.parse(body.get_string_from_utf8())\n    if json.error == OK:\n        print(json.result)",
                   "var json = JSON.new()\n    json.parse(body.get_string_from_utf8())\n    print(json.data)")]),
     ("http-typo", [('http.request("https://api.example.com/data")', 'http.send_request("https://api.example.com/data")')]),
     ("typed-http-typo", [("var http = HTTPRequest.new()", "var http := HTTPRequest.new()"),
                          ('http.request("https://api.example.com/data")', 'http.get("https://api.example.com/data")')]),
     ("body-typo", [("body.get_string_from_utf8()", "body.get_string_utf8()")]))

base("pause", "Godot 3: toggle a pause menu with the Escape key.", """
extends Control

func _ready():
    pause_mode = Node.PAUSE_MODE_PROCESS
    hide()

func _input(event):
    if event.is_action_pressed("ui_cancel"):
        get_tree().paused = not get_tree().paused
        visible = get_tree().paused
""",
     ("g4-process-mode", [("pause_mode = Node.PAUSE_MODE_PROCESS", "process_mode = Node.PROCESS_MODE_ALWAYS")]),
     ("pause-typo", [("pause_mode = Node.PAUSE_MODE_PROCESS", "pause_mode = Node.PAUSE_MODE_PROCES")]),
     ("tree-prop-typo", [("get_tree().paused = not get_tree().paused", "get_tree().pause = not get_tree().pause")]),
     ("hide-args", [("    hide()\n", "    hide(true)\n")]))

base("audio", "Godot 3: play a random footstep sound with AudioStreamPlayer.", """
extends AudioStreamPlayer

export (Array, AudioStream) var footsteps = []

func play_footstep():
    if footsteps.empty():
        return
    stream = footsteps[randi() % footsteps.size()]
    pitch_scale = rand_range(0.9, 1.1)
    play()
""",
     ("g4-is-empty", [("footsteps.empty()", "footsteps.is_empty()")]),
     ("g4-pick", [("footsteps[randi() % footsteps.size()]", "footsteps.pick_random()")]),
     ("play-args", [("    play()\n", "    play(0.0, 1)\n")]),
     ("float-mod", [("randi() % footsteps.size()", "randf() % footsteps.size()")]))

base("spatial", "Godot 3: rotate a 3D object and move it forward with KinematicBody.", """
extends KinematicBody

export var speed = 5.0
export var turn_speed = 2.0
var velocity = Vector3.ZERO

func _physics_process(delta):
    var turn = Input.get_action_strength("left") - Input.get_action_strength("right")
    rotate_y(turn * turn_speed * delta)
    var forward = -transform.basis.z
    velocity = forward * speed
    velocity = move_and_slide(velocity, Vector3.UP)
""",
     ("g4-body3d", [("extends KinematicBody", "extends CharacterBody3D")]),
     ("rotate-typo", [("rotate_y(turn * turn_speed * delta)", "rotate_yaw(turn * turn_speed * delta)")]),
     ("basis-typo", [("-transform.basis.z", "-transform.basis.forward")]),
     ("vec3-vec2", [("velocity = forward * speed", "velocity = forward * speed + Vector2(1, 0)")]))

base("state", "Godot 3: a small enum-based state machine for an NPC.", """
extends Node2D

enum State { IDLE, WALK, ATTACK }

var state = State.IDLE
var timer = 0.0

func _process(delta):
    timer += delta
    match state:
        State.IDLE:
            if timer > 2.0:
                change_state(State.WALK)
        State.WALK:
            position.x += 50 * delta
            if timer > 3.0:
                change_state(State.IDLE)

func change_state(new_state):
    state = new_state
    timer = 0.0
""",
     ("enum-typo", [("change_state(State.WALK)", "change_state(State.RUN)")]),
     ("args", [("change_state(State.IDLE)", "change_state(State.IDLE, true)")]),
     ("user-stub", [("timer += delta", "timer += delta\n    update_debug_label(state)")]),
     ("const-assign", [("var timer = 0.0", "const timer = 0.0")]))

base("draw", "Godot 3: draw a circle and a line in _draw and redraw every frame.", """
extends Node2D

export var radius = 32.0
export var color = Color.red

func _draw():
    draw_circle(Vector2.ZERO, radius, color)
    draw_line(Vector2.ZERO, Vector2(radius, 0), Color.white, 2.0)

func _process(_delta):
    update()
""",
     ("g4-redraw", [("    update()\n", "    queue_redraw()\n")]),
     ("g4-color", [("Color.red", "Color.RED")]),
     ("circle-args", [("draw_circle(Vector2.ZERO, radius, color)", "draw_circle(Vector2.ZERO, radius)")]),
     ("draw-typo", [("draw_line(", "draw_ln(")]))

base("typed_util", "Godot 3 with static typing: a utility to find the nearest node in a group.", """
extends Node

func find_nearest(origin: Vector2, group: String) -> Node2D:
    var nearest: Node2D = null
    var best := INF
    for node in get_tree().get_nodes_in_group(group):
        var d := origin.distance_to(node.global_position)
        if d < best:
            best = d
            nearest = node
    return nearest
""",
     ("distance-typo", [("origin.distance_to(", "origin.dist_to(")]),
     ("best-str", [("var best := INF", "var best := \"far\"")]),
     ("infer-null", [("var nearest: Node2D = null", "var nearest := null")]),
     ("string-method", [("for node in", "var g := group.to_upper().strip()\n    for node in")]))

base("label_anim", "Godot 3: animate a label's text one character at a time.", """
extends Label

export var chars_per_second = 20.0
var elapsed = 0.0

func _ready():
    percent_visible = 0.0

func _process(delta):
    elapsed += delta
    visible_characters = int(elapsed * chars_per_second)
    if visible_characters >= text.length():
        set_process(false)
""",
     ("g4-ratio", [("percent_visible = 0.0", "visible_ratio = 0.0")]),
     ("typo", [("set_process(false)", "set_processing(false)")]),
     ("int-args", [("int(elapsed * chars_per_second)", "int()")]),
     ("text-typo", [("text.length()", "text.size()")]))

base("navigation", "Godot 3: move an agent along a path from Navigation2D.", """
extends KinematicBody2D

export var speed = 120.0
var path = PoolVector2Array()
onready var nav = get_parent().get_node("Navigation2D")

func go_to(target_pos):
    path = nav.get_simple_path(global_position, target_pos)

func _physics_process(delta):
    if path.size() == 0:
        return
    var next_point = path[0]
    var to_next = next_point - global_position
    if to_next.length() < 4:
        path.remove(0)
    else:
        move_and_slide(to_next.normalized() * speed)
""",
     ("g4-packed", [("var path = PoolVector2Array()", "var path = PackedVector2Array()")]),
     ("g4-remove-at", [("path.remove(0)", "path.remove_at(0)")]),
     ("typed-nav-typo", [('onready var nav = get_parent().get_node("Navigation2D")', 'onready var nav: Navigation2D = get_parent().get_node("Navigation2D")'),
                         ("nav.get_simple_path(", "nav.get_path(")]),
     ("g4-agent", [("path = nav.get_simple_path(global_position, target_pos)", "$NavigationAgent2D.target_position = target_pos")]))

base("particles", "Godot 3: emit a burst of CPUParticles2D on hit.", """
extends Node2D

onready var particles: CPUParticles2D = $Hit

func on_hit(at: Vector2):
    particles.global_position = at
    particles.restart()
    particles.emitting = true
""",
     ("emit-typo", [("particles.emitting = true", "particles.emit = true")]),
     ("restart-args", [("particles.restart()", "particles.restart(true)")]),
     ("g4-gpu", [("onready var particles: CPUParticles2D = $Hit", "onready var particles: GPUParticles2D = $Hit")]),
     ("emit-call", [("particles.emitting = true", "particles.emit_particle()")]))

base("class", "Godot 3: an inner class for an item with a constructor.", """
extends Node

class Item:
    var name: String
    var weight: float

    func _init(n, w):
        name = n
        weight = w

var items = []

func _ready():
    items.append(Item.new("sword", 3.5))
    items.append(Item.new("shield", 5.0))
    var total = 0.0
    for item in items:
        total += item.weight
    print("Total weight: ", total)
""",
     ("ctor-args", [('Item.new("sword", 3.5)', 'Item.new("sword")')]),
     ("str-weight", [("var weight: float", "var weight: float = \"heavy\"")]),
     ("g4-super", [("        name = n\n", "        super()\n        name = n\n")]),
     ("item-method", [("total += item.weight", "total += item.get_weight()")]))

base("shader", "Godot 3: set a shader parameter on a sprite's material.", """
extends Sprite

func flash(amount: float) -> void:
    material.set_shader_param("flash_amount", amount)

func _ready():
    flash(0.0)
""",
     ("g4-shader", [("set_shader_param", "set_shader_parameter")]),
     ("flash-args", [("flash(0.0)", "flash()")]),
     ("typed-mat", [('material.set_shader_param("flash_amount", amount)', 'var mat := material as ShaderMaterial\n    mat.set_shader_param("flash_amount", amount)')]),
     ("typed-mat-typo", [('material.set_shader_param("flash_amount", amount)', 'var mat := material as ShaderMaterial\n    mat.set_param("flash_amount", amount)')]))

base("string", "Godot 3: format a time in seconds as mm:ss.", """
extends Node

func format_time(seconds: float) -> String:
    var minutes = int(seconds) / 60
    var secs = int(seconds) % 60
    return "%02d:%02d" % [minutes, secs]

func _ready():
    print(format_time(125.0))
""",
     ("float-mod", [("int(seconds) % 60", "seconds % 60")]),
     ("str-pad", [('return "%02d:%02d" % [minutes, secs]', "return str(minutes).pad_zeros(2) + \":\" + str(secs).pad_zeros(2)")]),
     ("str-plus-int", [('return "%02d:%02d" % [minutes, secs]', 'return str(minutes) + ":" + secs')]),
     ("g4-str", [('return "%02d:%02d" % [minutes, secs]', 'return "%02d" % minutes + ":" + str(secs).lpad(2, "0")')]))

base("group", "Godot 3: damage every enemy in a radius with call_group and distance checks.", """
extends Node2D

export var radius = 150.0
export var damage = 25

func explode():
    for enemy in get_tree().get_nodes_in_group("enemies"):
        if enemy.global_position.distance_to(global_position) <= radius:
            enemy.hit(damage)
    get_tree().call_group("camera", "shake", 0.5)
    queue_free()
""",
     ("call-group-typo", [("get_tree().call_group(", "get_tree().call_grp(")]),
     ("free-args", [("    queue_free()\n", "    queue_free(0.5)\n")]),
     ("self-ref", [("    queue_free()\n", "    self.explosion_done = true\n    queue_free()\n")]),
     ("notify", [("get_tree().call_group(\"camera\", \"shake\", 0.5)", "get_tree().notify_group(\"camera\", \"shake\")")]))

base("savegame_dir", "Godot 3: list the files in a folder with Directory.", """
extends Node

func list_saves(path = "user://saves"):
    var files = []
    var dir = Directory.new()
    if dir.open(path) == OK:
        dir.list_dir_begin(true, true)
        var file_name = dir.get_next()
        while file_name != "":
            files.append(file_name)
            file_name = dir.get_next()
        dir.list_dir_end()
    return files
""",
     ("g4-diraccess", [("var dir = Directory.new()\n    if dir.open(path) == OK:", "var dir = DirAccess.open(path)\n    if dir:")]),
     ("typed-dir-typo", [("var dir = Directory.new()", "var dir := Directory.new()"), ("dir.list_dir_end()", "dir.list_end()")]),
     ("begin-args", [("dir.list_dir_begin(true, true)", "dir.list_dir_begin(true, true, true)")]),
     ("bad-while", [('while file_name != "":', "while file_name != \"\"\n")]))

base("ready_typed", "Godot 3: cache child nodes with onready and typed variables.", """
extends Node2D

onready var sprite := $Sprite as Sprite
onready var anim: AnimationPlayer = $AnimationPlayer

func _ready() -> void:
    anim.play("spawn")
    sprite.modulate = Color(1, 1, 1, 0.5)

func hurt() -> void:
    anim.play("hurt")
    yield(anim, "animation_finished")
    anim.play("idle")
""",
     ("anim-typo", [('anim.play("spawn")', 'anim.start("spawn")')]),
     ("anim-args", [('anim.play("hurt")', 'anim.play("hurt", -1, 1.0, false, 5)')]),
     ("sprite-typo", [("sprite.modulate = Color(1, 1, 1, 0.5)", "sprite.modulate_color = Color(1, 1, 1, 0.5)")]),
     ("g4-await", [('yield(anim, "animation_finished")', "await anim.animation_finished")]))

base("lineedit", "Godot 3: validate a name typed into a LineEdit and enable a button.", """
extends Control

onready var name_edit: LineEdit = $NameEdit
onready var ok_button: Button = $OkButton

func _ready():
    name_edit.connect("text_changed", self, "_on_text_changed")
    ok_button.disabled = true

func _on_text_changed(new_text):
    ok_button.disabled = new_text.strip_edges().length() < 3
""",
     ("edit-typo", [('name_edit.connect("text_changed", self, "_on_text_changed")', 'name_edit.connect("text_changed", self, "_on_text_changed")\n    name_edit.grab_focus(true)')]),
     ("button-prop", [("ok_button.disabled = true", "ok_button.enabled = false")]),
     ("strip-typo", [("new_text.strip_edges()", "new_text.strip()")]),
     ("connect-args", [('name_edit.connect("text_changed", self, "_on_text_changed")', 'name_edit.connect("text_changed", "_on_text_changed")')]))

base("globals", "Godot 3: use global math and utility functions to clamp and wrap values.", """
extends Node

func step(value: float, delta: float) -> float:
    var v = clamp(value + delta, -10.0, 10.0)
    v = wrapf(v, -5.0, 5.0)
    v = stepify(v, 0.25)
    return lerp(v, 0.0, 0.1)

func _ready():
    randomize()
    print(step(randf(), 0.5), " ", str2var("1"), " ", var2str(Vector2(1, 2)))
""",
     ("g4-snapped", [("stepify(v, 0.25)", "snapped(v, 0.25)")]),
     ("g4-str-to-var", [('str2var("1")', 'str_to_var("1")')]),
     ("typo-global", [("wrapf(v, -5.0, 5.0)", "wrap_f(v, -5.0, 5.0)")]),
     ("lerp-args", [("lerp(v, 0.0, 0.1)", "lerp(v, 0.0)")]),
     ("print-debug", [("randomize()", "randomize()\n    print_debug(\"start\")\n    push_warning(\"x\")")]))

base("body_typed", "Godot 3: a projectile that damages what it hits with typed code.", """
extends Area2D

export var speed: float = 400.0
var direction: Vector2 = Vector2.RIGHT

func _physics_process(delta: float) -> void:
    position += direction * speed * delta

func _on_Bullet_body_entered(body: Node) -> void:
    if body.has_method("take_damage"):
        body.take_damage(10)
    queue_free()
""",
     ("vec-typo", [("direction * speed * delta", "direction.normal() * speed * delta")]),
     ("speed-str", [("export var speed: float = 400.0", "export var speed: float = \"fast\"")]),
     ("dir-int", [("var direction: Vector2 = Vector2.RIGHT", "var direction: Vector2 = 1")]),
     ("has-method-args", [('body.has_method("take_damage")', 'body.has_method()')]))

base("process_toggle", "Godot 3: a door that opens with an AnimationPlayer when the player is near.", """
extends StaticBody2D

var is_open = false
onready var anim = $AnimationPlayer

func toggle():
    is_open = !is_open
    if is_open:
        anim.play("open")
    else:
        anim.play_backwards("open")
    $CollisionShape2D.disabled = is_open
""",
     ("set-deferred", [("$CollisionShape2D.disabled = is_open", "$CollisionShape2D.set_deferred(\"disabled\", is_open)")]),
     ("call-deferred-typo", [("$CollisionShape2D.disabled = is_open", "call_deferred_thread(\"toggle\")")]),
     ("not-op", [("is_open = !is_open", "is_open = not is_open + 1")]),
     ("g4-static", [("extends StaticBody2D", "extends AnimatableBody2D")]))


# Answers without an extends line (issue 14, the amend protocol's extends): a reviewer attaches
# such an answer to a node of the class its own members need, so the compile level adds that line.
base("noext-hud", "Godot 3: pause the game and show a pause menu when Escape is pressed (no extends line).", """
func _unhandled_input(event):
    if event.is_action_pressed("ui_cancel"):
        get_tree().paused = not get_tree().paused
        $PauseMenu.visible = get_tree().paused
        get_tree().set_input_as_handled()
""",
     ("args", [("get_tree().set_input_as_handled()", "get_tree().set_input_as_handled(event)")]),
     ("g4-method", [("get_tree().set_input_as_handled()", "get_viewport().set_input_as_handled()\n        get_parent().process_mode = 1")]),
     ("override-arity", [("func _unhandled_input(event):", "func _unhandled_input():\n    var event = InputEventKey.new()")]))

base("noext-flash", "Godot 3: flash the sprite red when hit and fade back (no extends line).", """
var flash_time = 0.0

func hit():
    modulate = Color(1, 0.3, 0.3)
    flash_time = 0.2

func _process(delta):
    if flash_time > 0:
        flash_time -= delta
        modulate = modulate.linear_interpolate(Color.white, 0.2)
        position.x += rand_range(-1, 1)
""",
     ("g4-lerp", [("modulate.linear_interpolate(Color.white, 0.2)", "modulate.lerp(Color.white, 0.2)")]),
     ("typed-prop", [("position.x += rand_range(-1, 1)", "position += 1")]),
     ("override-arity", [("func _process(delta):", "func _process():\n    var delta = 0.016")]))

base("noext-panel", "Godot 3: slide a UI panel in from the left (no extends line).", """
export var slide_speed = 600.0

func _ready():
    rect_position.x = -rect_size.x

func _process(delta):
    if rect_position.x < 0:
        rect_position.x = min(rect_position.x + slide_speed * delta, 0)
    else:
        emit_signal("slid_in")
""",
     ("g4-names", [("rect_position.x = -rect_size.x", "position.x = -size.x")]),
     ("min-args", [("min(rect_position.x + slide_speed * delta, 0)", "min(rect_position.x + slide_speed * delta)")]))

base("noext-walker", "Godot 3: a KinematicBody2D enemy that walks and turns at walls (no extends line).", """
var velocity = Vector2(80, 0)

func _physics_process(delta):
    velocity.y += 900 * delta
    velocity = move_and_slide(velocity, Vector2.UP)
    if is_on_wall():
        velocity.x = -velocity.x
        $Sprite.flip_h = velocity.x < 0
        play_turn_sound()
""",
     ("g4-noargs", [("velocity = move_and_slide(velocity, Vector2.UP)", "move_and_slide()")]),
     ("typo", [("is_on_wall()", "is_on_walls()")]),
     ("floor-args", [("is_on_wall()", "is_on_wall(1)")]))


def expand():
    """Every answer of the development set: (id, instruction, code)."""
    rows = []
    for key, instruction, code, variants in BASES:
        text = code.lstrip("\n").replace("    ", "\t")
        rows.append((f"g3dev-{key}", instruction, text))
        for suffix, edits in variants:
            varied = code.lstrip("\n")
            for old, new in edits:
                if old not in varied:
                    raise ValueError(f"{key}/{suffix}: {old!r} not in the base")
                varied = varied.replace(old, new, 1)
            rows.append((f"g3dev-{key}-{suffix}", instruction, varied.replace("    ", "\t")))
    return rows
