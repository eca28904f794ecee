"""The sandbox worker's filesystem view, set up once inside its private mount namespace.

Only used by worker.py as root in a namespace it owns: nothing here changes the host's
mounts. /tmp becomes a size-capped tmpfs (the disk cap), /var/tmp and /dev/shm empty ones, the
home directories and the studio's data dir are hidden under empty tmpfs mounts with only the
toolchains that live there (Python, rustup) bound back read-only, and every other mount is made
read-only, so a program can change nothing outside its own work dir.
"""
import ctypes
import os

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 32, 4096, 16384

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _umount(target):
    _libc.umount2(target.encode(), 2)  # MNT_DETACH


def setup_filesystem(config):
    """Private /tmp (size-capped), other shared temp dirs and the homes hidden; toolchains kept."""
    # Root-owned and not writable by the sandbox uid: programs write only to their own work dir.
    disk = f"size={int(config['disk_mb'])}m,mode=711"
    for shared in ("/var/tmp", "/dev/shm"):
        if os.path.isdir(shared):
            _mount("tmpfs", shared, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    hide = [p for p in config["hide"] if os.path.isdir(p)]
    # Toolchains under /tmp too (a checkout cloned into a temp dir keeps its crates and
    # node_modules there): the private /tmp below would hide them like a home directory.
    covered = [*hide, "/tmp"] if os.path.isdir("/var/tmp") else hide
    keep = [p for p in config["keep"] if os.path.isdir(p) and any(_under(p, h) for h in covered)]
    if covered is hide:  # no /var/tmp to park them in: park them in the new /tmp
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, disk)
    staged = []
    for i, path in enumerate(keep):  # park them before the dirs above them disappear
        stage = f"{'/tmp' if covered is hide else '/var/tmp'}/.keep{i}"
        os.mkdir(stage)
        _mount(path, stage, None, MS_BIND | MS_REC)
        staged.append((stage, path))
    if covered is not hide:
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, disk)
    for path in sorted((h for h in hide if not _under(h, "/tmp")), key=len):  # the new /tmp hid the rest
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for stage, path in staged:
        os.makedirs(path, exist_ok=True)
        _mount(stage, path, None, MS_BIND | MS_REC)
        _mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        _umount(stage)
        os.rmdir(stage)
    make_read_only(writable=("/tmp", "/proc", "/sys", "/dev"))


def make_read_only(writable):
    """Remount every other mount read-only in our namespace (the host's mounts are untouched):
    nothing outside the work dir can be changed or deleted, even in world-writable dirs."""
    keep_flags = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": 8, "noatime": 1024,
                  "nodiratime": 2048, "relatime": 1 << 21}
    with open("/proc/self/mountinfo") as fh:
        mounts = [line.split() for line in fh]
    root_done = False
    for fields in mounts:
        point = fields[4].encode().decode("unicode_escape")
        if any(_under(point, w) for w in writable if w != "/"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in fields[5].split(","):
            flags |= keep_flags.get(opt, 0)
        try:
            _mount("none", point, None, flags)
            root_done = root_done or point == "/"
        except OSError:
            if point == "/":
                raise
    return root_done


def _under(path, parent):
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def probe_network_isolated():
    try:
        with open("/proc/self/net/dev") as fh:
            names = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
        return names == ["lo"] or names == []
    except OSError:
        return False
