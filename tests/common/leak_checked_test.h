/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fixture that fails a test which leaves more fds, buffers, bytes or
 * mappings behind than it found. Objects a fixture makes in its constructor
 * belong to the baseline.
 */
#pragma once

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
		BackendStatistics after = statistics().total();
		EXPECT_EQ(openFdCount(), fds_) << "the test leaked fds";
		EXPECT_EQ(after.buffers, before_.buffers) << "the test leaked buffers";
		EXPECT_EQ(after.bytes, before_.bytes) << "the test leaked backing";
		EXPECT_EQ(after.mappings, before_.mappings) << "the test leaked mappings";
	}

private:
	int fds_ = 0;
	BackendStatistics before_;
};

} /* namespace zcbuf::test */
