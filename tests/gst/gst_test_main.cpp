/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main() for the GStreamer tests: GStreamer criticals and warnings are
 * fatal (as gst-check makes them), and gst_deinit() runs at the end so that
 * the leaks tracer (GST_TRACERS=leaks, set by meson) reports what a test
 * left alive.
 */
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <gst/zcbuf/gstzcbuf.h>

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	gst_init(&argc, &argv);
	g_log_set_always_fatal(static_cast<GLogLevelFlags>(
		G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL));
	gst_zcbuf_init();
	int result = RUN_ALL_TESTS();
	gst_deinit();
	return result;
}
