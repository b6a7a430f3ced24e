/* cmdline.c - "key=value" lookups in the boot command line. */
#include "guest.h"

/* Set at run time, not by an initializer: the bzImage build must have no
 * absolute relocations (see Makefile). */
const char *cmdline;

/* Find the token for `key`; returns a pointer to it, sets *vlen etc. */
static const char *find(const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = cmdline != NULL ? cmdline : "";

	while (*p) {
		const char *tok, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		end = p;
		if ((size_t)(end - tok) >= klen && memcmp(tok, key, klen) == 0 &&
		    (tok + klen == end || tok[klen] == '=')) {
			if (tok + klen == end) {
				*val = end;
				*vlen = 0;
			} else {
				*val = tok + klen + 1;
				*vlen = (size_t)(end - *val);
			}
			return tok;
		}
	}
	return NULL;
}

bool cmd_get(const char *key, char *buf, size_t len)
{
	const char *v;
	size_t n;

	if (find(key, &v, &n) == NULL)
		return false;
	if (len) {
		if (n > len - 1)
			n = len - 1;
		memcpy(buf, v, n);
		buf[n] = 0;
	}
	return true;
}

bool cmd_has(const char *key)
{
	const char *v;
	size_t n;

	return find(key, &v, &n) != NULL;
}

uint64_t parse_num(const char *s, const char **end)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (s += 2;; s++) {
			unsigned d;

			if (*s >= '0' && *s <= '9')
				d = (unsigned)(*s - '0');
			else if (*s >= 'a' && *s <= 'f')
				d = (unsigned)(*s - 'a' + 10);
			else if (*s >= 'A' && *s <= 'F')
				d = (unsigned)(*s - 'A' + 10);
			else
				break;
			v = (v << 4) | d;
		}
	} else {
		for (; *s >= '0' && *s <= '9'; s++)
			v = v * 10 + (unsigned)(*s - '0');
	}
	if (end)
		*end = s;
	return v;
}

uint64_t cmd_num(const char *key, uint64_t dflt)
{
	char buf[32];

	if (!cmd_get(key, buf, sizeof(buf)) || !buf[0])
		return dflt;
	return parse_num(buf, NULL);
}
