#!/bin/sh
# pywb, which replays archived pages on the web interface's post pages, in a virtual environment
# of its own (.venv-pywb beside this script): pywb pins its own warcio and gevent, which must not
# meet weidang's. Does nothing when it is there already.
set -e
cd "$(dirname "$0")"
[ -x .venv-pywb/bin/wayback ] && exit 0
python3 -m venv .venv-pywb
# setuptools below 81 still has pkg_resources, which pywb 2.10 imports
.venv-pywb/bin/pip install -q --disable-pip-version-check 'pywb==2.10.0' 'setuptools<81'
