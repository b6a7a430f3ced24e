/* proctitle.h - rename the process after the VM (see proctitle.c).
 * Call only after option parsing: it overwrites the argv strings. */
#ifndef KHYVE_PROCTITLE_H
#define KHYVE_PROCTITLE_H

void proctitle_set(int argc, char **argv, const char *title);

#endif
