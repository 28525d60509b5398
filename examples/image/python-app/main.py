"""A small Python project: New-Sandbox -Build finds requirements.txt, installs it and copies this folder to /workspace."""
import platform

import requests

request = requests.Request("GET", "https://example.com/search", params={"q": "sandbox", "lang": "python"}).prepare()
print(f"requests {requests.__version__} on Python {platform.python_version()}")
print(f"prepared, not sent: {request.method} {request.url}")
