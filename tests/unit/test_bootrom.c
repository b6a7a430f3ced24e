/*
 * test_bootrom.c - -l bootrom parsing (dev/bootrom.c) and the -l fwcfg
 * choice; the mapping itself needs KVM (tests/integration/t-bootrom.sh).
 */
#include <errno.h>

#include "config.h"
#include "dev/platform.h"
#include "test.h"

TEST(bootrom_parse)
{
	config_init();
	CHECK_EQ(platform_dev_parse_lpc("bootrom,/fw/rom.fd"), 0);
	CHECK_STR(config_get(NULL, "lpc.bootrom"), "/fw/rom.fd");
	CHECK(config_get(NULL, "lpc.bootvars") == NULL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,/fw/rom.fd,/fw/vars.fd"), 0);
	CHECK_STR(config_get(NULL, "lpc.bootrom"), "/fw/rom.fd");
	CHECK_STR(config_get(NULL, "lpc.bootvars"), "/fw/vars.fd");
	CHECK_EQ(platform_dev_parse_lpc("bootrom"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,,vars"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,rom,"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("bootrom,rom,vars,extra"), -EINVAL);
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,QEMU"), 0);
	CHECK_STR(config_get(NULL, "lpc.fwcfg"), "qemu");
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,bhyve"), 0);
	CHECK_STR(config_get(NULL, "lpc.fwcfg"), "bhyve");
	CHECK_EQ(platform_dev_parse_lpc("fwcfg,ovmf"), -EINVAL);
	config_fini();
}
