# Two commands do all set-up on a fresh Debian machine (as root): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
APT_PACKAGES := python3 python3-venv python3-dev projectm-data chromium libegl1 libgl1-mesa-dri libgles2 fonts-dejavu-core \
                drascula-music

.PHONY: setup system venv demo test bench clean

setup: system venv

# Debian packages: only installed when something is missing, so repeated runs cost nothing.
system:
	@if [ ! -d /usr/share/projectM/presets ] || ! command -v chromium >/dev/null 2>&1 \
	    || [ ! -d /usr/share/scummvm/drascula/audio ] \
	    || ! ldconfig -p | grep -q libEGL.so.1 || ! command -v $(PYTHON) >/dev/null 2>&1; then \
	  echo ">> installing Debian packages: $(APT_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: setup
	$(VENV)/bin/liandan demo

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
