"""A tool baked into the image by the Dockerfile beside it."""
import os

print(os.environ.get("GREETING", "GREETING is not set"))
with open("/opt/tools/build-info.txt") as info:
    print(info.read().strip())
