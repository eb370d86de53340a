"""Print a listing of every path under ROOT, to compare a root before and after a role run.

Each line has the relative path, type, mode, owner and group; files also get
size, modification time and sha256. Directory times are left out because the
role's staging directory comes and goes inside rkt_download_dir. Prints
"absent" when ROOT does not exist.
"""

import hashlib
import os
import stat
import sys


def describe(path, relative):
    info = os.lstat(path)
    fields = [relative, stat.filemode(info.st_mode), str(info.st_uid), str(info.st_gid)]
    if stat.S_ISREG(info.st_mode):
        with open(path, "rb") as stream:
            digest = hashlib.sha256(stream.read()).hexdigest()
        fields += [str(info.st_size), str(info.st_mtime_ns), digest]
    elif stat.S_ISLNK(info.st_mode):
        fields.append(os.readlink(path))
    return " ".join(fields)


def main(root):
    if not os.path.lexists(root):
        print("absent")
        return
    lines = []
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories + files:
            path = os.path.join(directory, name)
            lines.append(describe(path, os.path.relpath(path, root)))
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main(sys.argv[1])
