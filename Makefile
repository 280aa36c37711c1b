# The two commands of the README.
.PHONY: run test

run:  ## set up and run the platform on its embedded defaults (SQLite, test environment, demo data)
	scripts/run.sh

test:  ## set up and pass the tests (SQLite and PostgreSQL)
	scripts/test.sh
