/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fixture that fails a test which leaves more fds, buffers, bytes or
 * mappings behind than it found. Objects a fixture makes in its constructor
 * belong to the baseline.
 */
#pragma once

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <zcbuf/statistics.h>

#include "fd_count.h"

namespace zcbuf::test {

class LeakCheckedTest : public ::testing::Test
{
protected:
	void SetUp() override
	{
		fds_ = openFdCount();
		before_ = statistics().total();
	}

	void TearDown() override
	{
		/* A pipeline's bus (two fds of its GstPoll) and an element's
		 * pool with its buffers go with the last reference, which a
		 * streaming thread still unwinding may hold for a moment after
		 * the test let go (seen in CI under load: zcconvert's five
		 * output buffers still counted): a leak is what is still there
		 * a second later. */
		BackendStatistics after = statistics().total();
		int fds = openFdCount();
		for (int i = 0; i < 100 && (fds > fds_ || after.buffers > before_.buffers ||
					    after.mappings > before_.mappings);
		     i++) {
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
			fds = openFdCount();
			after = statistics().total();
		}
		EXPECT_EQ(fds, fds_) << "the test leaked fds";
		EXPECT_EQ(after.buffers, before_.buffers) << "the test leaked buffers";
		EXPECT_EQ(after.bytes, before_.bytes) << "the test leaked backing";
		EXPECT_EQ(after.mappings, before_.mappings) << "the test leaked mappings";
	}

private:
	int fds_ = 0;
	BackendStatistics before_;
};

} /* namespace zcbuf::test */
