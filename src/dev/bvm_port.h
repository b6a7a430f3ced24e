/*
 * bvm_port.h - the one protocol behind bhyve's two "bvm" character ports,
 * the bvm console (0x220, -b) and the debug port (0x224, -g): a 4-port
 * claim whose offset 0 is
 *
 *   2-byte read      a 16-bit signature the guest driver probes for;
 *   4-byte read      the next input byte, or 0xffffffff (-1) if none is
 *                    waiting (input is polled by the guest, as in bhyve);
 *   4-byte write     output the low byte.
 *
 * Every other access (offsets 1-3, 1-byte probes, other sizes) reads as
 * all ones and writes are dropped (bhyve fails them; dropping is kinder).
 */
#ifndef KHYVE_DEV_BVM_PORT_H
#define KHYVE_DEV_BVM_PORT_H

#include <stdint.h>

struct vm;

/*
 * Open the chardev `spec` (chardev_open() syntax; no rx callback) and claim
 * ports base..base+3 under `name`.  0 or a negative errno; on failure
 * nothing is left behind.
 */
int bvm_port_attach(struct vm *vm, uint16_t base, uint16_t sig,
    const char *spec, const char *name);
/* Undo bvm_port_attach(); nothing if base was never attached. */
void bvm_port_detach(struct vm *vm, uint16_t base);

#endif
