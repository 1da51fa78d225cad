# The two set-up commands of the README. Each creates .venv, installs wireproof into it,
# and installs the real peer servers (Debian packages, as root) that the suite is proven against.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: report test peers

$(BIN)/wireproof: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

peers: $(BIN)/wireproof
	$(BIN)/python -m conformance.peers install

# The main job: the whole suite against a real SMTP server (Exim, started on a free port), with
# results.json, junit.xml and report.html in ./report, gated by Exim's checked-in baseline (exit 0
# unless a verdict regressed; its known deviations are explained in docs/peer-results.md).
report: peers
	$(BIN)/wireproof run peer:exim --baseline tests/baselines/exim.toml --out report

# The project's own tests: harness logic against fake servers, and the suite against Exim and
# aiosmtpd with their checked-in baselines.
test: peers
	$(BIN)/python -m pytest -q
