/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every backend shares: constraint checks, opening by name, probing. */
#include <zcbuf/backend.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

#include "backends.h"
#include "page.h"

namespace zcbuf {

using internal::pageSize;

std::string_view toString(BackendKind kind)
{
	switch (kind) {
	case BackendKind::Module:
		return "module";
	case BackendKind::DmaHeap:
		return "dma-heap";
	case BackendKind::Udmabuf:
		return "udmabuf";
	case BackendKind::Drm:
		return "drm";
	case BackendKind::Memfd:
		return "memfd";
	case BackendKind::Imported:
		return "imported";
	}
	return "unknown";
}

std::string Backend::description() const
{
	std::string text(toString(kind()));
	if (!device().empty())
		text += " (" + device() + ")";
	return text;
}

std::string Backend::spec() const
{
	std::string text(toString(kind()));
	if (kind() == BackendKind::Drm)
		text += ":" + device();
	else if (kind() == BackendKind::DmaHeap)
		text += ":" + device().substr(device().rfind('/') + 1);
	return text;
}

Result<Allocation> Backend::allocate(const AllocationRequest &request)
{
	const Constraints &c = request.constraints.merged;
	const BackendCapabilities caps = capabilities();
	const std::string self = "backend " + description();
	auto from = [](const std::string &consumer) {
		return " (required by " +
		       (consumer.empty() ? std::string("an unnamed consumer") : consumer) +
		       ")";
	};

	if (request.size == 0)
		return Error(EINVAL, "cannot allocate a buffer of 0 bytes");
	if (!c.backend.empty() && c.backend != toString(kind()))
		return Error(EINVAL, "backend " + c.backend +
					     from(request.constraints.backendFrom) +
					     " but this is " + self);
	if (!c.device.empty() && c.device != device())
		return Error(EINVAL, "device " + c.device +
					     from(request.constraints.deviceFrom) +
					     " but this is " + self);

	/* Page-granular backings meet any alignment up to a page; more needs
	 * an aligned block, which only some backends can allocate. */
	const std::size_t maxAlignment = std::max(pageSize(), caps.maxAlignment);
	if (c.alignment > maxAlignment)
		return Error(ENOTSUP, "alignment " + std::to_string(c.alignment) +
					      from(request.constraints.alignmentFrom) +
					      ": " + self + " aligns to at most " +
					      std::to_string(maxAlignment) + " bytes");
	if (c.contiguous && !caps.maxContiguous)
		return Error(ENOTSUP, "physically contiguous memory" +
					      from(request.constraints.contiguousFrom) +
					      ": " + self + " cannot allocate it");
	if (c.contiguous && request.size > caps.maxContiguous)
		return Error(ENOMEM, "physically contiguous memory" +
					     from(request.constraints.contiguousFrom) +
					     ": " + std::to_string(request.size) +
					     " bytes exceed the largest contiguous block " +
					     self + " can allocate (" +
					     std::to_string(caps.maxContiguous) + " bytes)");
	if (c.contiguous && c.maxSegmentSize && c.maxSegmentSize < request.size)
		return Error(EINVAL, "physically contiguous memory" +
					     from(request.constraints.contiguousFrom) +
					     " and a maximum segment size of " +
					     std::to_string(c.maxSegmentSize) +
					     from(request.constraints.maxSegmentSizeFrom) +
					     " cannot both hold for " +
					     std::to_string(request.size) + " bytes");
	if (request.readOnly && !caps.readOnly)
		return Error(ENOTSUP, self + " cannot export read-only buffers");

	Result<Allocation> allocation = allocateBacking(request);
	if (!allocation)
		return allocation;

	BackingProperties &p = allocation->properties;
	p.backend = std::string(toString(kind()));
	p.device = device();
	if (p.alignment < pageSize())
		p.alignment = pageSize();
	if (p.size < request.size)
		return Error(EIO, self + " returned " + std::to_string(p.size) +
					  " bytes for a request of " +
					  std::to_string(request.size));
	/* A backend that broke its promise must not hand the buffer on. */
	Result<void> met = satisfies(p, c);
	if (!met)
		return Error(EIO, self + " allocated a backing that does not hold: " +
					  met.error().message());
	return allocation;
}

namespace {

Result<std::shared_ptr<Backend>> openUncached(std::string_view name,
					      std::string_view argument)
{
	if (name == "memfd" && argument.empty())
		return internal::openMemfdBackend();
	if (name == "udmabuf" && argument.empty())
		return internal::openUdmabufBackend();
	if (name == "module" && argument.empty())
		return internal::openModuleBackend();
	if (name == "dma-heap")
		return internal::openDmaHeapBackend(argument);
	if (name == "drm")
		return internal::openDrmBackend(argument);
	return Error(EINVAL, "unknown backend '" + std::string(name) +
				     (argument.empty() ? "" : ":" + std::string(argument)) +
				     "' (known: module, dma-heap[:HEAP], udmabuf, "
				     "drm[:/dev/dri/cardN], memfd)");
}

} /* namespace */

Result<std::shared_ptr<Backend>> openBackend(std::string_view spec)
{
	/* Buffers that require a backend by constraint open it by name; share
	 * one instance per spec rather than reopening a device per buffer. */
	static std::mutex mutex;
	static std::map<std::string, std::weak_ptr<Backend>, std::less<>> open;

	std::lock_guard lock(mutex);
	auto it = open.find(spec);
	if (it != open.end()) {
		if (std::shared_ptr<Backend> backend = it->second.lock())
			return backend;
	}

	std::size_t colon = spec.find(':');
	std::string_view name = spec.substr(0, colon);
	std::string_view argument =
		colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
	Result<std::shared_ptr<Backend>> backend = openUncached(name, argument);
	if (backend)
		open[std::string(spec)] = backend.value();
	return backend;
}

Result<std::shared_ptr<Backend>> defaultBackend()
{
	const char *env = std::getenv("ZCBUF_BACKEND");
	if (env && *env) {
		Result<std::shared_ptr<Backend>> backend = openBackend(env);
		if (!backend)
			return Error(backend.error().code(),
				     std::string("ZCBUF_BACKEND=") + env + ": " +
					     backend.error().message());
		return backend;
	}

	for (std::string_view spec : { "module", "dma-heap", "udmabuf", "drm" }) {
		Result<std::shared_ptr<Backend>> backend = openBackend(spec);
		if (backend)
			return backend;
	}
	return openBackend("memfd");
}

Result<bool> specGivesDmabuf(std::string_view spec)
{
	std::string_view name = spec.substr(0, spec.find(':'));
	if (name == "memfd")
		return false;
	if (name == "module" || name == "dma-heap" || name == "udmabuf" || name == "drm")
		return true;
	return Error(EINVAL, "unknown backend '" + std::string(spec) + "'");
}

bool systemDmabufNodeExists()
{
	struct stat st;
	for (const char *node : { "/dev/zcbuf", "/dev/dma_heap/system", "/dev/udmabuf" })
		if (stat(node, &st) == 0 && S_ISCHR(st.st_mode))
			return true;
	return false;
}

std::vector<std::string> availableBackends()
{
	std::vector<std::string> specs;
	auto tryOpen = [&](const std::string &spec) {
		if (openBackend(spec))
			specs.push_back(spec);
	};

	tryOpen("module");
	if (DIR *dir = opendir("/dev/dma_heap")) {
		std::vector<std::string> heaps;
		while (struct dirent *entry = readdir(dir))
			if (entry->d_name[0] != '.')
				heaps.push_back(entry->d_name);
		closedir(dir);
		std::sort(heaps.begin(), heaps.end());
		for (const std::string &heap : heaps)
			tryOpen("dma-heap:" + heap);
	}
	tryOpen("udmabuf");
	for (int i = 0; i < 16; i++)
		if (access(("/dev/dri/card" + std::to_string(i)).c_str(), F_OK) == 0)
			tryOpen("drm:/dev/dri/card" + std::to_string(i));
	tryOpen("memfd");
	return specs;
}

} /* namespace zcbuf */
