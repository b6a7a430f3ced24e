/*
 * printf.c - a small printf: %d %i %u %x %X %p %s %c %%, with the l, ll
 * and z length modifiers, '-' and '0' flags and a field width.
 */
#include "guest.h"

struct sink {
	char *buf; /* NULL: the serial port */
	size_t len, pos;
};

static void put(struct sink *s, char c)
{
	if (s->buf == NULL) {
		if (c == '\n')
			serial_putc('\r');
		serial_putc(c);
	} else if (s->pos + 1 < s->len) {
		s->buf[s->pos] = c;
	}
	s->pos++;
}

/* *n /= base, returning the remainder, without libgcc's __udivdi3. */
static unsigned divmod(uint64_t *n, unsigned base)
{
#ifdef __x86_64__
	unsigned r = (unsigned)(*n % base);
	*n /= base;
	return r;
#else
	uint32_t hi = (uint32_t)(*n >> 32), lo = (uint32_t)*n, qlo, r;
	uint32_t qhi = hi / base;

	r = hi % base;
	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(base));
	*n = ((uint64_t)qhi << 32) | qlo;
	return r;
#endif
}

static void put_num(struct sink *s, uint64_t v, unsigned base, bool neg,
    int width, bool zero, bool left, bool upper)
{
	char tmp[24];
	int n = 0, len;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do
		tmp[n++] = digits[divmod(&v, base)];
	while (v);
	len = n + (neg ? 1 : 0);
	if (!left && !zero)
		for (; width > len; width--)
			put(s, ' ');
	if (neg)
		put(s, '-');
	if (!left && zero)
		for (; width > len; width--)
			put(s, '0');
	while (n)
		put(s, tmp[--n]);
	if (left)
		for (; width > len; width--)
			put(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool zero = false, left = false;
		int width = 0, lng = 0;
		uint64_t u;
		int64_t d;

		if (*fmt != '%') {
			put(s, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = sizeof(size_t) == 8 ? 2 : 1;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 2)
				d = va_arg(ap, long long);
			else if (lng == 1)
				d = va_arg(ap, long);
			else
				d = va_arg(ap, int);
			u = d < 0 ? -(uint64_t)d : (uint64_t)d;
			put_num(s, u, 10, d < 0, width, zero, left, false);
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			put_num(s, u, *fmt == 'u' ? 10 : 16, false, width, zero,
			    left, *fmt == 'X');
			break;
		case 'p':
			put(s, '0');
			put(s, 'x');
			put_num(s, (uintptr_t)va_arg(ap, void *), 16, false,
			    width, zero, left, false);
			break;
		case 'c':
			put(s, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			int n;

			if (str == NULL)
				str = "(null)";
			n = (int)strlen(str);
			if (!left)
				for (; width > n; width--)
					put(s, ' ');
			while (*str)
				put(s, *str++);
			if (left)
				for (; width > n; width--)
					put(s, ' ');
			break;
		}
		case '%':
			put(s, '%');
			break;
		case 0:
			return;
		default:
			put(s, '%');
			put(s, *fmt);
			break;
		}
	}
}

static volatile uint32_t console_lock_word;

void console_lock(void)
{
	while (__atomic_exchange_n(&console_lock_word, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

bool console_trylock(void)
{
	/* Bounded: used by the exception handler, which must print even if
	 * the CPU that faulted held the lock. */
	for (int i = 0; i < 100000; i++) {
		if (!__atomic_exchange_n(&console_lock_word, 1, __ATOMIC_ACQUIRE))
			return true;
		cpu_relax();
	}
	return false;
}

void console_unlock(void)
{
	__atomic_store_n(&console_lock_word, 0, __ATOMIC_RELEASE);
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };

	console_lock();
	format(&s, fmt, ap);
	console_unlock();
	return (int)s.pos;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .len = len };

	format(&s, fmt, ap);
	if (len)
		buf[s.pos < len ? s.pos : len - 1] = 0;
	return (int)s.pos;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

void print_text(const void *p, size_t n)
{
	const uint8_t *c = p;

	console_lock();
	for (size_t i = 0; i < n; i++)
		serial_putc(c[i] >= 0x20 && c[i] < 0x7f ? (char)c[i] : '.');
	console_unlock();
}
