/* test_gdb_fuzz.c - replay the fuzz corpus (fuzz/corpus/gdb_packet/)
 * through the fuzz target (fuzz/gdb_packet_fuzz.c), so every `make test`
 * runs the seeds and any crash input saved there.  Run from the top of
 * the tree, as tests/run does. */
#define FUZZ_REPLAY_NO_MAIN
#include "../../fuzz/replay.c"
#include "../../fuzz/gdb_packet_fuzz.c"

#include "test.h"

TEST(gdb_fuzz_corpus)
{
	int n = 0;

	CHECK_EQ(fuzz_replay_path("fuzz/corpus/gdb_packet", &n), 0);
	CHECK(n >= 10);
}
