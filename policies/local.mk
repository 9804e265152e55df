# policies/local.mk - the policy engine, the built-in rules, the module loader, and their tests.
noinst_LIBRARIES += policies/libpostern_policies.a
policies_libpostern_policies_a_SOURCES = \
	policies/engine.c policies/engine.h policies/engine_int.h \
	policies/module.c policies/msg.c policies/magic.c \
	policies/rules.h policies/part_class.c policies/part_class.h \
	policies/rule_empty_sender.c \
	policies/rule_sender_allowed.c \
	policies/rule_mime_structure.c \
	policies/rule_header_addresses.c \
	policies/rule_alignment.c \
	policies/rule_subject_present.c \
	policies/rule_subject_length.c \
	policies/rule_body_present.c \
	policies/rule_attachment_empty.c \
	policies/rule_inline_image_empty.c \
	policies/rule_attachment_type.c
policies_libpostern_policies_a_CFLAGS = $(AM_CFLAGS) $(LIBPSL_CFLAGS) $(LIBMAGIC_CFLAGS) $(LIBIDN2_CFLAGS)

# What a program running the engine links. Link it with -rdynamic too: the
# modules it dlopen()s resolve the postern_* API from the executable.
POLICY_LIBS = policies/libpostern_policies.a $(POSTERN_LIBS) $(LIBPSL_LIBS) $(LIBMAGIC_LIBS) \
	$(LIBIDN2_LIBS) -ldl

# Test modules: plain shared objects built the way a module author would
# (cc -shared -fPIC against include/postern/policy.h), loaded by path.
ENGINE_TEST_MODULES = \
	tests/unit/modules/verdict.so \
	tests/unit/modules/verdict2.so \
	tests/unit/modules/nosym.so \
	tests/unit/modules/badabi.so \
	tests/unit/modules/initfail.so \
	tests/unit/modules/badname.so \
	tests/unit/modules/blockdomain.so
EXTRA_DIST += tests/unit/modules/blockdomain.c tests/unit/modules/verdict.c tests/unit/modules/verdict2.c \
	tests/unit/modules/nosym.c tests/unit/modules/badabi.c tests/unit/modules/initfail.c \
	tests/unit/modules/badname.c
CLEANFILES += $(ENGINE_TEST_MODULES)

tests/unit/modules/%.so: $(srcdir)/tests/unit/modules/%.c $(srcdir)/include/postern/policy.h
	@mkdir -p tests/unit/modules
	$(AM_V_CC)$(CC) -std=gnu11 -shared -fPIC -Wall -Wextra -I$(srcdir)/include \
		-I$(srcdir)/tests/unit/modules -o $@ $<
tests/unit/modules/verdict2.so tests/unit/modules/badname.so: $(srcdir)/tests/unit/modules/verdict.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_engine tests/unit/test_engine_modules tests/unit/test_part_class
TESTS += tests/unit/test_engine tests/unit/test_engine_modules tests/unit/test_part_class
tests_unit_test_part_class_SOURCES = tests/unit/test_part_class.c
tests_unit_test_part_class_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_part_class_LDADD = $(POLICY_LIBS) $(CMOCKA_LIBS)
ENGINE_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_MODULE_DIR='"$(abs_top_builddir)/tests/unit/modules"'
ENGINE_TEST_SOURCES = tests/unit/engine_harness.c tests/unit/engine_harness.h
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c $(ENGINE_TEST_SOURCES)
tests_unit_test_engine_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_engine_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
tests_unit_test_engine_LDADD = $(POLICY_LIBS) $(CMOCKA_LIBS)
tests_unit_test_engine_modules_SOURCES = tests/unit/test_engine_modules.c $(ENGINE_TEST_SOURCES)
tests_unit_test_engine_modules_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_engine_modules_CPPFLAGS = $(ENGINE_TEST_CPPFLAGS)
# -rdynamic: the test modules resolve the postern_* API from the test program.
tests_unit_test_engine_modules_LDFLAGS = $(AM_LDFLAGS) -rdynamic
tests_unit_test_engine_modules_LDADD = $(POLICY_LIBS) $(CMOCKA_LIBS) $(PTHREAD_LIBS)
EXTRA_tests_unit_test_engine_modules_DEPENDENCIES = $(ENGINE_TEST_MODULES)
endif
