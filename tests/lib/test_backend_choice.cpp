/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zcbuf::chooseBackend(): one test per rule, against backends a test
 * opener makes up, so that every machine sees every rule. */
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <zcbuf/backend_choice.h>

using namespace zcbuf;

namespace {

class FakeBackend : public Backend
{
public:
	FakeBackend(BackendKind kind, std::string device, BackendCapabilities caps)
		: kind_(kind), device_(std::move(device)), caps_(caps)
	{
	}
	BackendKind kind() const override { return kind_; }
	const std::string &device() const override { return device_; }
	BackendCapabilities capabilities() const override { return caps_; }

protected:
	Result<Allocation> allocateBacking(const AllocationRequest &) override
	{
		return Error(ENOTSUP, "a test backend");
	}

private:
	BackendKind kind_;
	std::string device_;
	BackendCapabilities caps_;
};

BackendCapabilities dmabufCaps(std::size_t contiguous = 0)
{
	BackendCapabilities caps;
	caps.dmabuf = true;
	caps.maxContiguous = contiguous;
	return caps;
}

/* A machine: the specs that open, and every spec asked for. */
struct Machine {
	std::map<std::string, std::shared_ptr<Backend>> present;
	std::vector<std::string> opened;

	void add(const std::string &spec, BackendKind kind, BackendCapabilities caps,
		 std::string device = "")
	{
		present[spec] = std::make_shared<FakeBackend>(kind, device, caps);
	}
	BackendOpener opener()
	{
		return [this](std::string_view spec) -> Result<std::shared_ptr<Backend>> {
			opened.emplace_back(spec);
			auto it = present.find(std::string(spec));
			if (it == present.end())
				return Error(ENOENT, "No such file or directory");
			return it->second;
		};
	}
};

/* memfd is always there. */
Machine baseMachine()
{
	Machine machine;
	machine.add("memfd", BackendKind::Memfd, BackendCapabilities());
	return machine;
}

ConsumerNeed need(std::string consumer, std::string device)
{
	ConsumerNeed n;
	n.consumer = std::move(consumer);
	n.device = std::move(device);
	return n;
}

TEST(ChooseBackend, NoNeedGivesMemfdAndOpensNothingElse)
{
	Machine machine = baseMachine();
	machine.add("module", BackendKind::Module, dmabufCaps(1 << 20));
	Result<BackendChoice> choice = chooseBackend({}, "", "", machine.opener());
	ASSERT_TRUE(choice) << choice.error().message();
	EXPECT_EQ(choice->spec, "memfd");
	EXPECT_EQ(choice->reason, "no consumer states a need: memfd, cached pages and no device "
				  "opened");
	EXPECT_EQ(machine.opened, std::vector<std::string>{ "memfd" });
}

TEST(ChooseBackend, CpuAndOtherProcessConsumersGiveMemfd)
{
	Machine machine = baseMachine();
	machine.add("module", BackendKind::Module, dmabufCaps(1 << 20));
	Result<BackendChoice> choice =
		chooseBackend({ need("zcthumbnail0", "cpu"), need("zcipcsink0", "other-process") },
			      "", "", machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "memfd");
	EXPECT_EQ(choice->reason.rfind("zcthumbnail0 (cpu), zcipcsink0 (other-process) maps with "
				       "the CPU only",
				       0),
		  0u)
		<< choice->reason;
	EXPECT_EQ(machine.opened, std::vector<std::string>{ "memfd" });
}

TEST(ChooseBackend, DeviceImportTakesTheModuleFirst)
{
	Machine machine = baseMachine();
	machine.add("module", BackendKind::Module, dmabufCaps(1 << 20));
	machine.add("dma-heap", BackendKind::DmaHeap, dmabufCaps());
	Result<BackendChoice> choice =
		chooseBackend({ need("kmssink0", "/dev/dri/card0") }, "", "", machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "module");
	EXPECT_EQ(choice->reason, "kmssink0 (/dev/dri/card0) needs a dma-buf: module, the first "
				  "system-memory exporter that meets it");
}

TEST(ChooseBackend, DmabufNeedWithoutTheModuleTakesTheSystemHeap)
{
	Machine machine = baseMachine();
	machine.add("dma-heap", BackendKind::DmaHeap, dmabufCaps());
	machine.add("udmabuf", BackendKind::Udmabuf, dmabufCaps());
	ConsumerNeed n = need("caps", "");
	n.dmabuf = true;
	Result<BackendChoice> choice = chooseBackend({ n }, "", "", machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "dma-heap");
}

TEST(ChooseBackend, ContiguousNeedSkipsTheSystemHeapForCma)
{
	Machine machine = baseMachine();
	machine.add("dma-heap", BackendKind::DmaHeap, dmabufCaps());
	machine.add("dma-heap:linux,cma", BackendKind::DmaHeap, dmabufCaps(SIZE_MAX));
	ConsumerNeed n = need("v4l2src0", "/dev/video0");
	n.contiguous = true;
	Result<BackendChoice> choice = chooseBackend({ n }, "", "", machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "dma-heap:linux,cma");
	EXPECT_NE(choice->reason.find("contiguous dma-buf"), std::string::npos);
}

TEST(ChooseBackend, ContiguousNeedNoneCanMeetIsAnErrorListingEach)
{
	Machine machine = baseMachine();
	machine.add("dma-heap", BackendKind::DmaHeap, dmabufCaps());
	machine.add("udmabuf", BackendKind::Udmabuf, dmabufCaps());
	ConsumerNeed n = need("v4l2src0", "/dev/video0");
	n.contiguous = true;
	Result<BackendChoice> choice = chooseBackend({ n }, "", "", machine.opener());
	ASSERT_FALSE(choice);
	EXPECT_EQ(choice.error().message(),
		  "v4l2src0 (/dev/video0) needs a contiguous dma-buf and no exporter meets it "
		  "(module: No such file or directory; dma-heap: no physically contiguous memory; "
		  "dma-heap:linux,cma: No such file or directory; dma-heap:reserved: No such file "
		  "or directory; udmabuf: no physically contiguous memory)");
}

TEST(ChooseBackend, DrmConsumerOnAStockKernelGetsItsOwnCard)
{
	Machine machine = baseMachine();
	machine.add("drm:/dev/dri/card0", BackendKind::Drm, dmabufCaps(), "/dev/dri/card0");
	Result<BackendChoice> choice =
		chooseBackend({ need("zckmssink0", "/dev/dri/card0") }, "", "", machine.opener());
	ASSERT_TRUE(choice) << choice.error().message();
	EXPECT_EQ(choice->spec, "drm:/dev/dri/card0");
	EXPECT_NE(choice->reason.find("no system-memory exporter opens"), std::string::npos);
}

TEST(ChooseBackend, NonDrmDeviceWithoutAnExporterIsAnError)
{
	Machine machine = baseMachine();
	machine.add("drm:/dev/dri/card0", BackendKind::Drm, dmabufCaps(), "/dev/dri/card0");
	Result<BackendChoice> choice =
		chooseBackend({ need("v4l2sink0", "/dev/video3") }, "", "", machine.opener());
	ASSERT_FALSE(choice);
	EXPECT_EQ(choice.error().code(), ENODEV);
	EXPECT_EQ(choice.error().message().rfind("v4l2sink0 (/dev/video3) needs a dma-buf", 0), 0u);
}

TEST(ChooseBackend, OwnDeviceMemoryGivesDumbBuffersThere)
{
	Machine machine = baseMachine();
	machine.add("module", BackendKind::Module, dmabufCaps(1 << 20));
	machine.add("drm:/dev/dri/card1", BackendKind::Drm, dmabufCaps(), "/dev/dri/card1");
	ConsumerNeed n = need("zckmssink0", "/dev/dri/card1");
	n.ownDeviceMemory = true;
	n.dmabuf = true;
	Result<BackendChoice> choice =
		chooseBackend({ n, need("zcthumbnail0", "cpu") }, "", "", machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "drm:/dev/dri/card1");
	EXPECT_EQ(choice->reason, "zckmssink0 (/dev/dri/card1) imports only memory allocated on "
				  "/dev/dri/card1: dumb buffers there");
	EXPECT_EQ(machine.opened, std::vector<std::string>{ "drm:/dev/dri/card1" });
}

TEST(ChooseBackend, TwoDevicesThatEachImportOnlyTheirOwnMemoryIsAnError)
{
	Machine machine = baseMachine();
	ConsumerNeed a = need("a", "/dev/dri/card0"), b = need("b", "/dev/dri/card1");
	a.ownDeviceMemory = b.ownDeviceMemory = true;
	Result<BackendChoice> choice = chooseBackend({ a, b }, "", "", machine.opener());
	ASSERT_FALSE(choice);
	EXPECT_NE(choice.error().message().find("no one buffer serves both"), std::string::npos);
	EXPECT_TRUE(machine.opened.empty());
}

TEST(ChooseBackend, ForcedBackendThatCannotMeetANeedNamesBoth)
{
	Machine machine = baseMachine();
	Result<BackendChoice> choice =
		chooseBackend({ need("kmssink0", "/dev/dri/card0") }, "memfd",
			      "the ZCBUF_BACKEND environment variable", machine.opener());
	ASSERT_FALSE(choice);
	EXPECT_EQ(choice.error().message(),
		  "zcbuf backend 'memfd' (asked for by the ZCBUF_BACKEND environment variable) "
		  "cannot meet the need of kmssink0 (/dev/dri/card0): a dma-buf");
}

TEST(ChooseBackend, ForcedBackendMayLeaveAnOptionalNeedUnmet)
{
	Machine machine = baseMachine();
	ConsumerNeed n = need("zckmssink0", "/dev/dri/card0");
	n.dmabuf = n.optional = true;
	Result<BackendChoice> choice =
		chooseBackend({ n }, "memfd", "the backend property", machine.opener());
	ASSERT_TRUE(choice) << choice.error().message();
	EXPECT_EQ(choice->spec, "memfd");
	/* Unforced, the optional need still chooses. */
	machine.add("module", BackendKind::Module, dmabufCaps(1 << 20));
	choice = chooseBackend({ n }, "", "", machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "module");
}

TEST(ChooseBackend, ForcedDrmOnAnotherCardCannotMeetAnOwnMemoryNeed)
{
	Machine machine = baseMachine();
	machine.add("drm:/dev/dri/card0", BackendKind::Drm, dmabufCaps(), "/dev/dri/card0");
	ConsumerNeed n = need("zckmssink0", "/dev/dri/card1");
	n.ownDeviceMemory = true;
	Result<BackendChoice> choice = chooseBackend({ n }, "drm:/dev/dri/card0",
						     "the backend property", machine.opener());
	ASSERT_FALSE(choice);
	EXPECT_NE(choice.error().message().find("memory allocated on /dev/dri/card1"),
		  std::string::npos);
}

TEST(ChooseBackend, MissingForcedBackendNamesOriginAndReason)
{
	Machine machine = baseMachine();
	Result<BackendChoice> choice =
		chooseBackend({}, "udmabuf", "the backend property", machine.opener());
	ASSERT_FALSE(choice);
	EXPECT_EQ(choice.error().code(), ENOENT);
	EXPECT_EQ(choice.error().message(), "zcbuf backend 'udmabuf' (asked for by the backend "
					    "property) is not available: No such file or directory");
}

TEST(ChooseBackend, ForcedBackendThatMeetsEveryNeedIsTaken)
{
	Machine machine = baseMachine();
	machine.add("udmabuf", BackendKind::Udmabuf, dmabufCaps());
	Result<BackendChoice> choice = chooseBackend({ need("kmssink0", "/dev/dri/card0") },
						     "udmabuf", "the backend property",
						     machine.opener());
	ASSERT_TRUE(choice);
	EXPECT_EQ(choice->spec, "udmabuf");
	EXPECT_EQ(choice->reason, "forced by the backend property");
}

TEST(ParseConstraints, EveryItem)
{
	Result<ConsumerNeed> need =
		parseConstraints(" contiguous, dmabuf,align=4096,stride-align=64,device=/dev/video0",
				 "zcconvert0");
	ASSERT_TRUE(need) << need.error().message();
	EXPECT_EQ(need->consumer, "zcconvert0");
	EXPECT_TRUE(need->contiguous);
	EXPECT_TRUE(need->dmabuf);
	EXPECT_EQ(need->alignment, 4096u);
	EXPECT_EQ(need->strideAlignment, 64u);
	EXPECT_EQ(need->device, "/dev/video0");
}

TEST(ParseConstraints, EmptyIsNoNeed)
{
	Result<ConsumerNeed> need = parseConstraints("", "x");
	ASSERT_TRUE(need);
	EXPECT_FALSE(need->contiguous || need->dmabuf || need->alignment);
}

TEST(ParseConstraints, BadItemsAreErrors)
{
	for (const char *text : { "contiguos", "align=3", "align=", "align=4k", "dmabuf=yes",
				  "device=" }) {
		Result<ConsumerNeed> need = parseConstraints(text, "x");
		ASSERT_FALSE(need) << text;
		EXPECT_EQ(need.error().code(), EINVAL);
		EXPECT_EQ(need.error().message().rfind("constraints: '", 0), 0u);
	}
}

} /* namespace */
