/*
 * aml.h - a small builder for ACPI Machine Language (ACPI 6.x, chapter 20),
 * enough for khyve's DSDT: names, integers, strings, EISA IDs, packages,
 * buffers and resource templates, scopes, devices, and simple methods.
 *
 * Usage: aml_init(), then emit objects in order.  Objects with a body
 * (scope, device, method, if/else, package, buffer) are opened by their
 * function and closed by aml_end(); the builder then inserts the
 * PkgLength (and a buffer's size) in front of the body, so the caller
 * never counts bytes.  Errors are sticky: after the first one (-ENOMEM,
 * -EINVAL for a malformed name, an unbalanced aml_end() or too deep a
 * nesting, -E2BIG for a body beyond what PkgLength encodes) every call
 * is a no-op and aml_finish() reports it.
 *
 * Names are ASL-like paths: an optional '\' (root) or '^'s (parents),
 * then segments of 1..4 characters from [A-Z0-9_] (not starting with a
 * digit) separated by '.'; short segments are padded with '_'.
 */
#ifndef KHYVE_FIRMWARE_AML_H
#define KHYVE_FIRMWARE_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;
	int depth;
	struct {
		size_t start; /* offset of the body (after the opcode) */
		bool buffer;  /* a Buffer: also insert its BufferSize */
	} open[AML_MAX_DEPTH];
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
/* 0 with *out and *len set to the finished byte string (owned by `a`),
 * or the first error (also -EINVAL if an object is still open). */
int aml_finish(struct aml *a, const uint8_t **out, size_t *len);

/* Raw bytes (for callers that know the encoding). */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* ---- data objects ---- */
void aml_namestring(struct aml *a, const char *path);
/* The shortest encoding: Zero, One, Byte/Word/DWord/QWordConst. */
void aml_int(struct aml *a, uint64_t v);
/* A String (printable ASCII only, else -EINVAL). */
void aml_string(struct aml *a, const char *s);
/* EisaId ("PNP0A03"): three capitals and four hex digits, as a DWord. */
void aml_eisaid(struct aml *a, const char *id);
/* The 32-bit form of an EISA ID (exposed for tests); 0 if malformed. */
uint32_t aml_eisaid_value(const char *id);

/* ---- named objects and statements ---- */
/* Name (path, <next object>). */
void aml_name(struct aml *a, const char *path);
/* Name (path, integer) / Name (path, string): the common cases. */
void aml_name_int(struct aml *a, const char *path, uint64_t v);
void aml_name_string(struct aml *a, const char *path, const char *s);
void aml_name_eisaid(struct aml *a, const char *path, const char *id);

void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_method(struct aml *a, const char *path, int nargs, bool serialized);
/* If (<predicate>) { ... }: emit the predicate right after aml_if(). */
void aml_if(struct aml *a);
void aml_else(struct aml *a);
/* Package (n) { ... }: exactly n objects must follow (n <= 255). */
void aml_package(struct aml *a, unsigned n);
/* Buffer () { bytes }: the size is filled in by aml_end(). */
void aml_buffer(struct aml *a);
/* Close the innermost open object. */
void aml_end(struct aml *a);

void aml_return(struct aml *a); /* Return (<next object>) */
void aml_store(struct aml *a);  /* Store (<src>, <dst>) */
void aml_arg(struct aml *a, int n);   /* Arg0..Arg6 */
void aml_local(struct aml *a, int n); /* Local0..Local7 */

/* ---- resource templates: open with aml_buffer(), add descriptors, then
 * aml_res_end() and aml_end() ---- */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
    uint8_t len);                        /* IO (Decode16, ...) */
void aml_res_irq_noflags(struct aml *a, unsigned irq); /* IRQNoFlags () {n} */
void aml_res_mem32_fixed(struct aml *a, bool writable, uint32_t base,
    uint32_t len);                       /* Memory32Fixed */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, bool cacheable, uint32_t min,
    uint32_t max);
void aml_res_qword_mem(struct aml *a, bool cacheable, uint64_t min,
    uint64_t max);
void aml_res_end(struct aml *a); /* EndTag */

/* Encode a PkgLength for a body of `body` bytes into out[4]; returns the
 * number of bytes used (1..4) or 0 if too large.  Exposed for tests. */
int aml_pkglen_encode(size_t body, uint8_t out[4]);

#endif
