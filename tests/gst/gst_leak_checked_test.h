/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lib's leak check for GStreamer tests, run over every backend under
 * test: fds, buffers, bytes and mappings must be back to where they were.
 * The backend is opened in the constructor, so its own fd is part of the
 * baseline.
 */
#pragma once

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <zcbuf/backend.h>

#include "backend_params.h"
#include "leak_checked_test.h"

namespace zcbuf::test {

class GstBackendTest : public LeakCheckedTest,
		       public ::testing::WithParamInterface<std::string>
{
protected:
	GstBackendTest()
	{
		Result<std::shared_ptr<Backend>> backend = openBackend(GetParam());
		if (backend)
			backend_ = backend.value();
		else
			openError_ = backend.error().message();
	}

	void SetUp() override
	{
		ASSERT_TRUE(backend_) << openError_;
		LeakCheckedTest::SetUp();
	}

	const char *spec() const { return GetParam().c_str(); }
	bool dmabuf() const { return backend_->capabilities().dmabuf; }

	std::shared_ptr<Backend> backend_;
	std::string openError_;
};

} /* namespace zcbuf::test */
