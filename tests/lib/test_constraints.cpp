/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gtest/gtest.h>

#include <zcbuf/constraints.h>

using namespace zcbuf;

namespace {

Constraints named(const std::string &consumer)
{
	Constraints c;
	c.consumer = consumer;
	return c;
}

TEST(Constraints, CollatesTheStrictestOfEach)
{
	Constraints a = named("decoder");
	a.alignment = 64;
	a.strideAlignment = 16;
	a.maxSegmentSize = 1 << 20;
	Constraints b = named("display");
	b.alignment = 4096;
	b.strideAlignment = 256;
	b.contiguous = true;
	b.maxSegmentSize = 64 << 10;

	Result<CollatedConstraints> c = collate({ a, b });
	ASSERT_TRUE(c.ok()) << c.error().message();
	EXPECT_EQ(c->merged.alignment, 4096u);
	EXPECT_EQ(c->alignmentFrom, "display");
	EXPECT_EQ(c->merged.strideAlignment, 256u);
	EXPECT_TRUE(c->merged.contiguous);
	EXPECT_EQ(c->contiguousFrom, "display");
	EXPECT_EQ(c->merged.maxSegmentSize, 64u << 10);
	EXPECT_EQ(c->maxSegmentSizeFrom, "display");
}

TEST(Constraints, NothingAttachedMeansNoConstraint)
{
	Result<CollatedConstraints> c = collate({});
	ASSERT_TRUE(c.ok());
	EXPECT_EQ(c->merged.alignment, 0u);
	EXPECT_FALSE(c->merged.contiguous);
	EXPECT_TRUE(c->merged.backend.empty());
}

TEST(Constraints, ConflictingBackendsNameBothConsumers)
{
	Constraints a = named("camera");
	a.backend = "module";
	Constraints b = named("gpu");
	b.backend = "drm";
	Result<CollatedConstraints> c = collate({ a, b });
	ASSERT_FALSE(c.ok());
	EXPECT_EQ(c.error().code(), EINVAL);
	EXPECT_NE(c.error().message().find("camera"), std::string::npos);
	EXPECT_NE(c.error().message().find("gpu"), std::string::npos);
}

TEST(Constraints, ConflictingDevicesNameBothConsumers)
{
	Constraints a = named("scanout");
	a.device = "/dev/dri/card0";
	Constraints b = named("render");
	b.device = "/dev/dri/card1";
	Result<CollatedConstraints> c = collate({ a, b });
	ASSERT_FALSE(c.ok());
	EXPECT_NE(c.error().message().find("scanout"), std::string::npos);
	EXPECT_NE(c.error().message().find("/dev/dri/card1"), std::string::npos);
}

TEST(Constraints, SameBackendTwiceIsFine)
{
	Constraints a = named("a");
	a.backend = "drm";
	Constraints b = named("b");
	b.backend = "drm";
	EXPECT_TRUE(collate({ a, b }).ok());
}

TEST(Constraints, RejectsAlignmentsThatAreNotPowersOfTwo)
{
	Constraints a = named("odd");
	a.alignment = 48;
	Result<void> r = validate(a);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().code(), EINVAL);
	EXPECT_NE(r.error().message().find("odd"), std::string::npos);

	Constraints b = named("odd stride");
	b.strideAlignment = 3;
	EXPECT_FALSE(validate(b).ok());
	EXPECT_FALSE(collate({ named("fine"), b }).ok());
}

TEST(Constraints, RejectsSegmentsSmallerThanAPage)
{
	Constraints a = named("tiny");
	a.maxSegmentSize = 512;
	Result<void> r = validate(a);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message().find("tiny"), std::string::npos);
}

TEST(Constraints, BackingThatMeetsEverything)
{
	BackingProperties backing;
	backing.contiguous = true;
	backing.alignment = 1 << 20;
	backing.size = 1 << 20;
	backing.backend = "module";
	backing.device = "/dev/zcbuf";
	backing.strides = { 1920, 3840 };

	Constraints c = named("late");
	c.contiguous = true;
	c.alignment = 4096;
	c.strideAlignment = 128;
	c.backend = "module";
	EXPECT_TRUE(satisfies(backing, c).ok());
}

TEST(Constraints, BackingThatMissesOneIsBusy)
{
	BackingProperties backing;
	backing.alignment = 4096;
	backing.size = 8192;
	backing.backend = "memfd";
	backing.strides = { 1920 };

	Constraints contiguous = named("contiguous device");
	contiguous.contiguous = true;
	Result<void> r = satisfies(backing, contiguous);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().code(), EBUSY);
	EXPECT_NE(r.error().message().find("contiguous device"), std::string::npos);

	Constraints aligned = named("aligned");
	aligned.alignment = 65536;
	EXPECT_EQ(satisfies(backing, aligned).error().code(), EBUSY);

	Constraints stride = named("stride");
	stride.strideAlignment = 256; /* 1920 = 7.5 * 256 */
	EXPECT_EQ(satisfies(backing, stride).error().code(), EBUSY);

	Constraints backend = named("backend");
	backend.backend = "drm";
	EXPECT_EQ(satisfies(backing, backend).error().code(), EBUSY);
}

} /* namespace */
