# The two set-up commands of the README. Each creates .venv and installs wireproof into it; `test`
# also installs the real peer servers (Debian packages, as root) that the suite is proven against.
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

# The main job: the whole suite against the embedded simulator, with results.json, junit.xml and
# report.html in ./report. Exit status as documented in the README (0: every check as expected).
report: $(BIN)/wireproof
	$(BIN)/wireproof run --out report

# The project's own tests: harness logic against fake servers, and the suites against the real peers
# (Exim, aiosmtpd, Dovecot, INN, Apache mod_dav, WsgiDAV) with their checked-in baselines.
test: peers
	$(BIN)/python -m pytest -q
