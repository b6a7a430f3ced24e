/* test_aml.c - the AML builder (firmware/aml.c) against hand-encoded AML
 * from the ACPI 6.x grammar. */
#include <errno.h>
#include <stdlib.h>

#include "firmware/aml.h"
#include "test.h"

/* Does the finished builder hold exactly `want`? */
static int same(struct aml *a, const uint8_t *want, size_t n)
{
	const uint8_t *p;
	size_t len;

	if (aml_finish(a, &p, &len) != 0 || len != n)
		return 0;
	return memcmp(p, want, n) == 0;
}
#define SAME(a, ...)                                                          \
	same((a), (const uint8_t[]){ __VA_ARGS__ },                           \
	    sizeof((const uint8_t[]){ __VA_ARGS__ }))

TEST(aml_pkglen)
{
	uint8_t b[4];

	CHECK_EQ(aml_pkglen_encode(0, b), 1);
	CHECK_EQ(b[0], 1);
	CHECK_EQ(aml_pkglen_encode(62, b), 1);
	CHECK_EQ(b[0], 63);
	/* 63 + 2 = 65 = 0x41: lead 0x41 (1 follow byte, low nibble 1). */
	CHECK_EQ(aml_pkglen_encode(63, b), 2);
	CHECK_EQ(b[0], 0x41);
	CHECK_EQ(b[1], 0x04);
	CHECK_EQ(aml_pkglen_encode(4093, b), 2); /* 4095: the 2-byte max */
	CHECK_EQ(b[0], 0x4f);
	CHECK_EQ(b[1], 0xff);
	CHECK_EQ(aml_pkglen_encode(4094, b), 3); /* 4097 */
	CHECK_EQ(b[0], 0x81);
	CHECK_EQ(b[1], 0x00);
	CHECK_EQ(b[2], 0x01);
	CHECK_EQ(aml_pkglen_encode((1u << 20) - 4, b), 3);
	CHECK_EQ(aml_pkglen_encode((1u << 20) - 3, b), 4);
	CHECK_EQ(aml_pkglen_encode((1u << 28) - 5, b), 4);
	CHECK_EQ(b[0], 0xcf);
	CHECK_EQ(aml_pkglen_encode((1u << 28) - 4, b), 0); /* too big */
}

TEST(aml_integers_and_strings)
{
	struct aml a;

	aml_init(&a);
	aml_int(&a, 0);
	aml_int(&a, 1);
	aml_int(&a, 0xff);
	aml_int(&a, 0x100);
	aml_int(&a, 0x12345678);
	aml_int(&a, 0x100000000ULL);
	aml_string(&a, "A1");
	CHECK(SAME(&a, 0x00, 0x01, 0x0a, 0xff, 0x0b, 0x00, 0x01,
	    0x0c, 0x78, 0x56, 0x34, 0x12,
	    0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	    0x0d, 'A', '1', 0x00));
	aml_free(&a);

	/* Control characters cannot be in an AML string. */
	aml_init(&a);
	aml_string(&a, "a\nb");
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}

TEST(aml_eisaid)
{
	struct aml a;

	CHECK_EQ(aml_eisaid_value("PNP0A03"), 0x030ad041);
	CHECK_EQ(aml_eisaid_value("PNP0501"), 0x0105d041);
	CHECK_EQ(aml_eisaid_value("pnp0a03"), 0);
	CHECK_EQ(aml_eisaid_value("PNP0A0"), 0);
	CHECK_EQ(aml_eisaid_value("PNP0A0G"), 0);
	CHECK_EQ(aml_eisaid_value(NULL), 0);
	aml_init(&a);
	aml_name_eisaid(&a, "_HID", "PNP0B00");
	CHECK(SAME(&a, 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0b, 0x00));
	aml_free(&a);
	aml_init(&a);
	aml_eisaid(&a, "XYZ");
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}

TEST(aml_names)
{
	struct aml a;

	aml_init(&a);
	aml_namestring(&a, "_S5");
	aml_namestring(&a, "\\_SB");
	aml_namestring(&a, "\\_SB.PC00");
	aml_namestring(&a, "_SB.PC00.ISA");
	aml_namestring(&a, "^^C1");
	aml_namestring(&a, "\\");
	CHECK(SAME(&a, '_', 'S', '5', '_',
	    0x5c, '_', 'S', 'B', '_',
	    0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', '0', '0',
	    0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', '0', '0', 'I', 'S', 'A', '_',
	    0x5e, 0x5e, 'C', '1', '_', '_',
	    0x5c, 0x00));
	aml_free(&a);

	static const char *const bad[] = { "", "abc", "1ABC", "ABCDE", "A..B",
		"A.", ".A", "A-B", "\\\\A", "^\\A", "A B", "^", NULL };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		aml_init(&a);
		aml_namestring(&a, bad[i]);
		if (a.err != -EINVAL) {
			printf("  name \"%s\" accepted\n",
			    bad[i] ? bad[i] : "(null)");
			CHECK(0);
		}
		aml_free(&a);
	}
}

/* What bhyve's DSDT starts with, byte for byte as iasl compiles it. */
TEST(aml_package_and_scope)
{
	struct aml a;

	aml_init(&a);
	aml_name(&a, "_S5");
	aml_package(&a, 2);
	aml_int(&a, 5);
	aml_int(&a, 0);
	aml_end(&a);
	aml_scope(&a, "\\_SB");
	aml_device(&a, "C000");
	aml_name_string(&a, "_HID", "ACPI0007");
	aml_end(&a);
	aml_end(&a);
	CHECK(SAME(&a, 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05,
	    0x00,
	    0x10, 0x1c, 0x5c, '_', 'S', 'B', '_',
	    0x5b, 0x82, 0x14, 'C', '0', '0', '0',
	    0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I', '0', '0', '0',
	    '7', 0x00));
	aml_free(&a);
}

TEST(aml_methods)
{
	struct aml a;

	aml_init(&a);
	aml_method(&a, "_PIC", 1, false);
	aml_store(&a);
	aml_arg(&a, 0);
	aml_namestring(&a, "PICM");
	aml_end(&a);
	aml_method(&a, "_STA", 0, true);
	aml_if(&a);
	aml_local(&a, 0);
	aml_return(&a);
	aml_int(&a, 0x0f);
	aml_end(&a);
	aml_else(&a);
	aml_return(&a);
	aml_int(&a, 0);
	aml_end(&a);
	aml_end(&a);
	CHECK(SAME(&a, 0x14, 0x0c, '_', 'P', 'I', 'C', 0x01, 0x70, 0x68, 'P',
	    'I', 'C', 'M',
	    0x14, 0x10, '_', 'S', 'T', 'A', 0x08,
	    0xa0, 0x05, 0x60, 0xa4, 0x0a, 0x0f,
	    0xa1, 0x03, 0xa4, 0x00));
	aml_free(&a);

	aml_init(&a);
	aml_method(&a, "X", 8, false);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_arg(&a, 7);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}

TEST(aml_resource_template)
{
	struct aml a;

	aml_init(&a);
	aml_name(&a, "_CRS");
	aml_buffer(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 4);
	aml_res_end(&a);
	aml_end(&a);
	/* Buffer: PkgLength 0x10, BufferSize 0x0d, then the descriptors. */
	CHECK(SAME(&a, 0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	    0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	    0x22, 0x10, 0x00, 0x79, 0x00));
	aml_free(&a);

	aml_init(&a);
	aml_buffer(&a);
	aml_res_word_bus(&a, 0, 0xff);
	aml_res_word_io(&a, 0x0d00, 0xffff);
	aml_res_dword_mem(&a, false, 0xc0000000, 0xdfffffff);
	aml_res_qword_mem(&a, true, 1ULL << 36, (1ULL << 37) - 1);
	aml_res_mem32_fixed(&a, true, 0xe0000000, 0x10000000);
	aml_res_end(&a);
	aml_end(&a);
	{
		const uint8_t *p;
		size_t len;

		CHECK_EQ(aml_finish(&a, &p, &len), 0);
		/* 16 + 16 + 26 + 46 + 12 + 2 bytes of descriptors */
		CHECK_EQ(len, 1 + 2 + 2 + 118);
		CHECK_EQ(p[5], 0x88); /* WordBusNumber */
		CHECK_EQ(p[8], 2);    /* bus */
		CHECK_EQ(p[9], 0x0c); /* MinFixed, MaxFixed, producer */
		CHECK_EQ(p[5 + 14], 0x00); /* length 0x100 */
		CHECK_EQ(p[5 + 15], 0x01);
		CHECK_EQ(p[21], 0x88); /* WordIO */
		CHECK_EQ(p[21 + 5], 0x03); /* EntireRange */
		CHECK_EQ(p[21 + 14], 0x00); /* length 0xf300 */
		CHECK_EQ(p[21 + 15], 0xf3);
		CHECK_EQ(p[37], 0x87); /* DWordMemory */
		CHECK_EQ(p[37 + 5], 0x01); /* ReadWrite, NonCacheable */
		CHECK_EQ(p[63], 0x8a); /* QWordMemory */
		CHECK_EQ(p[63 + 5], 0x03); /* ReadWrite, Cacheable */
		CHECK_EQ(p[109], 0x86);
		CHECK_EQ(p[121], 0x79);
	}
	aml_free(&a);

	aml_init(&a);
	aml_res_irq_noflags(&a, 16);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_dword_mem(&a, false, 2, 1); /* max below min */
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}

/* A body over 63 bytes takes a 2-byte PkgLength; over 4 KiB, 3 bytes. */
TEST(aml_long_bodies)
{
	struct aml a;
	const uint8_t *p;
	size_t len;

	aml_init(&a);
	aml_scope(&a, "\\_SB");
	for (int i = 0; i < 20; i++)
		aml_name_int(&a, "X", 0x10 + (uint64_t)i); /* 7 bytes each */
	aml_end(&a);
	CHECK_EQ(aml_finish(&a, &p, &len), 0);
	CHECK_EQ(len, 1 + 2 + 5 + 140);
	CHECK_EQ(p[1], 0x40 | ((len - 1) & 0x0f));
	CHECK_EQ(p[2], (len - 1) >> 4);
	aml_free(&a);

	aml_init(&a);
	aml_buffer(&a);
	for (int i = 0; i < 5000; i++)
		aml_byte(&a, 0xaa);
	aml_end(&a);
	CHECK_EQ(aml_finish(&a, &p, &len), 0);
	/* BufferOp, 3-byte PkgLength, WordConst 5000, the bytes. */
	CHECK_EQ(len, 1 + 3 + 3 + 5000);
	CHECK_EQ(p[1] >> 6, 2);
	CHECK_EQ((size_t)(p[1] & 0x0f) | (size_t)p[2] << 4 | (size_t)p[3] << 12,
	    len - 1);
	CHECK_EQ(p[4], 0x0b);
	CHECK_EQ(p[5] | p[6] << 8, 5000);
	aml_free(&a);
}

TEST(aml_nesting_errors)
{
	struct aml a;
	const uint8_t *p;
	size_t len;

	aml_init(&a);
	aml_end(&a); /* nothing open */
	CHECK_EQ(aml_finish(&a, &p, &len), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_scope(&a, "\\_SB"); /* never closed */
	CHECK_EQ(aml_finish(&a, &p, &len), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope(&a, "A");
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);

	/* Errors are sticky: later calls change nothing. */
	aml_init(&a);
	aml_namestring(&a, "bad");
	len = a.len;
	aml_int(&a, 5);
	aml_scope(&a, "\\_SB");
	aml_end(&a);
	CHECK_EQ(a.len, len);
	CHECK_EQ(aml_finish(&a, &p, &len), -EINVAL);
	aml_free(&a);

	aml_init(&a);
	aml_package(&a, 256);
	CHECK_EQ(a.err, -EINVAL);
	aml_free(&a);
}
