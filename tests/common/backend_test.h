/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A leak-checked test run once per backend under test (backend_params.h).
 * The backend is opened in the constructor, so its own fd belongs to the
 * baseline the leak check compares with.
 */
#pragma once

#include <gtest/gtest.h>

#include <zcbuf/backend.h>

#include "backend_params.h"
#include "leak_checked_test.h"

namespace zcbuf::test {

class BackendTest : public LeakCheckedTest, public ::testing::WithParamInterface<std::string>
{
protected:
	BackendTest()
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

/* Instantiates a BackendTest subclass over every backend under test. */
#define ZCBUF_INSTANTIATE_FOR_BACKENDS(Suite)                                            \
	INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                        \
				 ::testing::ValuesIn(zcbuf::test::backendsUnderTest()),  \
				 [](const auto &info) { return zcbuf::test::paramName(info.param); })

/* Instantiates it over the dma-buf backends under test only: tests of what
 * only dma-bufs do. On a kernel without any (this sandbox's) it has no
 * instance; the VM suite runs it. */
#define ZCBUF_INSTANTIATE_FOR_DMABUF_BACKENDS(Suite)                                      \
	GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Suite);                              \
	INSTANTIATE_TEST_SUITE_P(DmabufBackends, Suite,                                    \
				 ::testing::ValuesIn(zcbuf::test::dmabufBackendsUnderTest()), \
				 [](const auto &info) { return zcbuf::test::paramName(info.param); })

} /* namespace zcbuf::test */
