/* panic - a kernel that crashes on purpose.
 *
 * Clears stvec (no trap handler) and stores to address 0, which is neither
 * RAM nor a device: a store access fault with nowhere to go.  The hypervisor
 * treats a trap with stvec == 0 as a crash of this VM (pc, cause and tval in
 * its message); the VMs beside it keep running.
 */
#include "guest.h"

int main(unsigned long hartid, const void *dtb)
{
        guest_init(hartid, dtb);
        printf("panic: this kernel is about to crash on purpose\n");
        printf("panic: stvec = 0 (no trap handler), then a store to address 0x00000000\n");
        printf("panic: expect a store access fault (scause 7, stval 0) that kills this VM "
               "and only this VM\n");
        console_flush();

        csr_write(stvec, 0);
        /* asm, not a C NULL store, which gcc may turn into a trap instruction */
        __asm__ __volatile__("sw %0, 0(zero)" : : "r"(0xdeadu) : "memory");

        printf("panic: still alive: the fault did not stop this VM!\n");
        return 1;
}
