/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <cstdlib>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

#include <zcbuf/backend.h>

#include "backend_params.h"
#include "backend_test.h"

using namespace zcbuf;

namespace {

/* Sets an environment variable for one scope. */
class ScopedEnv
{
public:
	ScopedEnv(const char *name, const char *value) : name_(name)
	{
		if (const char *old = std::getenv(name))
			old_ = old;
		had_ = std::getenv(name) != nullptr;
		if (value)
			setenv(name, value, 1);
		else
			unsetenv(name);
	}
	~ScopedEnv()
	{
		if (had_)
			setenv(name_, old_.c_str(), 1);
		else
			unsetenv(name_);
	}

private:
	const char *name_;
	std::string old_;
	bool had_ = false;
};

bool nodeExists(const char *path)
{
	return access(path, F_OK) == 0;
}

TEST(BackendProbe, MemfdIsAlwaysAvailable)
{
	std::vector<std::string> specs = availableBackends();
	EXPECT_NE(std::find(specs.begin(), specs.end(), "memfd"), specs.end());
	EXPECT_EQ(specs.back(), "memfd") << "memfd is the last resort";
}

/* What caps negotiation asks, answered without opening anything. */
TEST(BackendProbe, SpecSaysWhetherItGivesDmabufs)
{
	EXPECT_FALSE(specGivesDmabuf("memfd").value());
	for (const char *spec : { "module", "dma-heap", "dma-heap:system", "udmabuf", "drm",
				  "drm:/dev/dri/card7" })
		EXPECT_TRUE(specGivesDmabuf(spec).value()) << spec;
	Result<bool> unknown = specGivesDmabuf("tape-drive");
	ASSERT_FALSE(unknown);
	EXPECT_NE(unknown.error().message().find("tape-drive"), std::string::npos);
}

TEST(BackendProbe, SystemDmabufNodeExistsAgreesWithWhatOpens)
{
	std::vector<std::string> specs = availableBackends();
	bool opens = std::any_of(specs.begin(), specs.end(), [](const std::string &spec) {
		return spec == "module" || spec == "dma-heap:system" || spec == "udmabuf";
	});
	EXPECT_EQ(systemDmabufNodeExists(), opens);
}

/* zcbuf's fd on a primary node never holds DRM master: an application
 * that opens the card after it gets master (the first opener while none
 * exists does), so its own modeset works. Runs where a card exists (the
 * guest's virtio-gpu and vgem). */
TEST(BackendProbe, DrmBackendLeavesMasterToTheApplication)
{
	for (int i = 0; i < 16; i++) {
		std::string node = "/dev/dri/card" + std::to_string(i);
		if (!nodeExists(node.c_str()))
			continue;
		Result<std::shared_ptr<Backend>> drm = openBackend("drm:" + node);
		if (!drm)
			continue;
		UniqueFD app(open(node.c_str(), O_RDWR | O_CLOEXEC));
		ASSERT_TRUE(app.isValid()) << node;
		/* DRM_IOCTL_SET_MASTER: EBUSY while another fd is master. */
		EXPECT_EQ(ioctl(app.get(), _IO('d', 0x1e), 0), 0)
			<< node << ": " << strerror(errno);
		return;
	}
	GTEST_SKIP() << "no DRM card the drm backend opens";
}

TEST(BackendProbe, PicksTheBestAvailable)
{
	ScopedEnv env("ZCBUF_BACKEND", nullptr);
	Result<std::shared_ptr<Backend>> backend = defaultBackend();
	ASSERT_TRUE(backend.ok()) << backend.error().message();

	BackendKind expected = BackendKind::Memfd;
	if (nodeExists("/dev/zcbuf"))
		expected = BackendKind::Module;
	else if (nodeExists("/dev/dma_heap/system"))
		expected = BackendKind::DmaHeap;
	else if (nodeExists("/dev/udmabuf"))
		expected = BackendKind::Udmabuf;
	else if (openBackend("drm").ok())
		expected = BackendKind::Drm;
	EXPECT_EQ((*backend)->kind(), expected) << (*backend)->description();
}

TEST(BackendProbe, EnvironmentChoosesByName)
{
	ScopedEnv env("ZCBUF_BACKEND", "memfd");
	Result<std::shared_ptr<Backend>> backend = defaultBackend();
	ASSERT_TRUE(backend.ok()) << backend.error().message();
	EXPECT_EQ((*backend)->kind(), BackendKind::Memfd);
}

TEST(BackendProbe, MissingBackendFromEnvironmentIsAnErrorNotAFallback)
{
	/* Pick a backend this machine does not have. */
	const char *missing = nullptr;
	for (const char *spec : { "module", "udmabuf", "dma-heap:zcbuf-no-such-heap" })
		if (!openBackend(spec).ok()) {
			missing = spec;
			break;
		}
	ASSERT_NE(missing, nullptr);

	ScopedEnv env("ZCBUF_BACKEND", missing);
	Result<std::shared_ptr<Backend>> backend = defaultBackend();
	ASSERT_FALSE(backend.ok()) << "got " << (*backend)->description();
	EXPECT_NE(backend.error().message().find("ZCBUF_BACKEND"), std::string::npos)
		<< backend.error().message();
}

TEST(BackendProbe, UnknownNameListsTheKnownOnes)
{
	Result<std::shared_ptr<Backend>> backend = openBackend("floppy");
	ASSERT_FALSE(backend.ok());
	EXPECT_EQ(backend.error().code(), EINVAL);
	EXPECT_NE(backend.error().message().find("memfd"), std::string::npos);
	EXPECT_FALSE(openBackend("memfd:extra").ok());
	EXPECT_FALSE(openBackend("dma-heap:../../etc").ok());
}

TEST(BackendProbe, MissingDeviceNamesTheNode)
{
	Result<std::shared_ptr<Backend>> drm = openBackend("drm:/dev/dri/card99");
	ASSERT_FALSE(drm.ok());
	EXPECT_NE(drm.error().message().find("/dev/dri/card99"), std::string::npos);

	if (!nodeExists("/dev/zcbuf")) {
		Result<std::shared_ptr<Backend>> module = openBackend("module");
		ASSERT_FALSE(module.ok());
		EXPECT_EQ(module.error().code(), ENOENT);
		EXPECT_NE(module.error().message().find("/dev/zcbuf"), std::string::npos);
	}
}

TEST(BackendProbe, SameSpecSharesOneInstance)
{
	Result<std::shared_ptr<Backend>> a = openBackend("memfd");
	Result<std::shared_ptr<Backend>> b = openBackend("memfd");
	ASSERT_TRUE(a.ok() && b.ok());
	EXPECT_EQ(a.value(), b.value());
}

TEST(BackendProbe, RequiredKindsArePresent)
{
	/* The VM suite lists the backends its kernel provides: each must open. */
	std::vector<std::string> specs = availableBackends();
	for (const std::string &kind : test::requiredBackendKinds()) {
		bool found = std::any_of(specs.begin(), specs.end(), [&](const std::string &s) {
			return s.substr(0, s.find(':')) == kind;
		});
		EXPECT_TRUE(found) << "backend " << kind << " is required here but missing";
	}
}

class BackendAllocationTest : public test::BackendTest
{
protected:
	AllocationRequest request(std::size_t size)
	{
		AllocationRequest r;
		r.size = size;
		r.name = "backend-test";
		return r;
	}
};

TEST_P(BackendAllocationTest, AllocatesAtLeastTheSizeAskedFor)
{
	for (std::size_t size : { std::size_t(1), std::size_t(4096), std::size_t(1920 * 1080 * 3 / 2) }) {
		Result<Allocation> a = backend_->allocate(request(size));
		ASSERT_TRUE(a.ok()) << a.error().message();
		EXPECT_GE(a->properties.size, size);
		EXPECT_EQ(a->properties.backend, toString(backend_->kind()));
		EXPECT_TRUE(fcntl(a->fd.get(), F_GETFD) & FD_CLOEXEC);
		EXPECT_GE(a->properties.alignment, static_cast<std::size_t>(getpagesize()));
	}
}

TEST_P(BackendAllocationTest, RefusesZeroBytes)
{
	Result<Allocation> a = backend_->allocate(request(0));
	ASSERT_FALSE(a.ok());
	EXPECT_EQ(a.error().code(), EINVAL);
}

TEST_P(BackendAllocationTest, ContiguousOnlyWhereTheBackendCanAndNamesTheConsumer)
{
	AllocationRequest r = request(64 << 10);
	r.constraints.merged.contiguous = true;
	r.constraints.contiguousFrom = "isp";
	Result<Allocation> a = backend_->allocate(r);
	if (backend_->capabilities().maxContiguous) {
		ASSERT_TRUE(a.ok()) << a.error().message();
		EXPECT_TRUE(a->properties.contiguous);
	} else {
		ASSERT_FALSE(a.ok());
		EXPECT_EQ(a.error().code(), ENOTSUP);
		EXPECT_NE(a.error().message().find("isp"), std::string::npos);
		EXPECT_NE(a.error().message().find("contiguous"), std::string::npos);
	}
}

TEST_P(BackendAllocationTest, AlignmentBeyondWhatTheBackendGuaranteesFails)
{
	AllocationRequest r = request(4096);
	r.constraints.merged.alignment = std::size_t(1) << 30;
	r.constraints.alignmentFrom = "strange device";
	Result<Allocation> a = backend_->allocate(r);
	ASSERT_FALSE(a.ok());
	EXPECT_NE(a.error().message().find("strange device"), std::string::npos);
}

TEST_P(BackendAllocationTest, ContiguousWithSmallSegmentsIsImpossible)
{
	AllocationRequest r = request(1 << 20);
	r.constraints.merged.contiguous = true;
	r.constraints.merged.maxSegmentSize = 64 << 10;
	r.constraints.contiguousFrom = "a";
	r.constraints.maxSegmentSizeFrom = "b";
	Result<Allocation> a = backend_->allocate(r);
	ASSERT_FALSE(a.ok());
}

TEST_P(BackendAllocationTest, RequiredOtherBackendIsRefused)
{
	AllocationRequest r = request(4096);
	r.constraints.merged.backend = backend_->kind() == BackendKind::Memfd ? "drm" : "memfd";
	r.constraints.backendFrom = "picky";
	Result<Allocation> a = backend_->allocate(r);
	ASSERT_FALSE(a.ok());
	EXPECT_NE(a.error().message().find("picky"), std::string::npos);
}

ZCBUF_INSTANTIATE_FOR_BACKENDS(BackendAllocationTest);

} /* namespace */
