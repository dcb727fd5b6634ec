# SPDX-License-Identifier: GPL-2.0
#
# The targets every shmchan suite's Makefile shares, in place of kselftest's
# runner: print-progs (the programs in run order, for tools/vm/check),
# emit_tests (SUITE:PROGRAM) and run_tests (TAP, one line per program,
# each under the timeout of SRCDIR/settings). Set before including:
#   SUITE      the suite's name in TAP lines and collections
#   RUN_PROGS  its programs, in run order
#   SRCDIR     its source directory (settings; scripts are run from there)
#   OUTPUT     where built programs are (one missing there runs from SRCDIR)

print-progs:
	@for p in $(RUN_PROGS); do echo $$p; done

emit_tests:
	@for p in $(RUN_PROGS); do echo "$(SUITE):$$p"; done

run_tests: all
	@timeout=$$(sed -n 's/^timeout=//p' $(SRCDIR)/settings); n=0; fail=0; \
	echo "TAP version 13"; echo "1..$(words $(RUN_PROGS))"; \
	for p in $(RUN_PROGS); do \
		n=$$((n + 1)); echo "# selftests: $(SUITE): $$p"; \
		dir=$(OUTPUT); [[ -x $$dir/$$p ]] || dir=$(SRCDIR); \
		(cd $$dir && timeout $${timeout:-45} ./$$p 2>&1 | sed 's/^/# /'; \
		 exit $${PIPESTATUS[0]}); rc=$$?; \
		case $$rc in \
		0) echo "ok $$n selftests: $(SUITE): $$p";; \
		4) echo "ok $$n selftests: $(SUITE): $$p # SKIP";; \
		124) echo "not ok $$n selftests: $(SUITE): $$p # TIMEOUT $$timeout seconds"; fail=1;; \
		*) echo "not ok $$n selftests: $(SUITE): $$p # exit=$$rc"; fail=1;; \
		esac; \
	done; exit $$fail
