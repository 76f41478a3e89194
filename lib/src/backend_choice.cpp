/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <zcbuf/backend_choice.h>

#include <charconv>

#include <unistd.h>

namespace zcbuf {

namespace {

std::size_t pageSize()
{
	long page = sysconf(_SC_PAGESIZE);
	return page > 0 ? static_cast<std::size_t>(page) : 4096;
}

/* What the backend lacks for @need, empty when it meets it. */
std::string unmet(const Backend &backend, const ConsumerNeed &need)
{
	BackendCapabilities caps = backend.capabilities();
	if (need.ownDeviceMemory &&
	    (backend.kind() != BackendKind::Drm || backend.device() != need.device))
		return "memory allocated on " + need.device;
	if ((need.dmabuf || need.contiguous || need.namesDeviceNode()) && !caps.dmabuf)
		return "a dma-buf";
	if (need.contiguous && caps.maxContiguous == 0)
		return "physically contiguous memory";
	std::size_t align = caps.maxAlignment ? caps.maxAlignment : pageSize();
	if (need.alignment > align)
		return std::to_string(need.alignment) + "-byte alignment";
	return {};
}

std::string names(const std::vector<const ConsumerNeed *> &needs)
{
	std::string text;
	for (const ConsumerNeed *need : needs)
		text += (text.empty() ? "" : ", ") + need->describe();
	return text;
}

bool parseSize(std::string_view text, std::size_t &value)
{
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
	return ec == std::errc() && end == text.data() + text.size();
}

} /* namespace */

std::string ConsumerNeed::describe() const
{
	std::string who = consumer.empty() ? std::string("a consumer") : consumer;
	return device.empty() ? who : who + " (" + device + ")";
}

Result<BackendChoice> chooseBackend(const std::vector<ConsumerNeed> &needs,
				    std::string_view forced, std::string_view origin,
				    const BackendOpener &open)
{
	/* 1. Forced: opened, and checked against every need. */
	if (!forced.empty()) {
		Result<std::shared_ptr<Backend>> backend = open(forced);
		if (!backend)
			return Error(backend.error().code(),
				     "zcbuf backend '" + std::string(forced) + "' (asked for by " +
					     std::string(origin) + ") is not available: " +
					     backend.error().message());
		for (const ConsumerNeed &need : needs) {
			std::string missing = need.optional ? std::string()
							    : unmet(*backend.value(), need);
			if (!missing.empty())
				return Error(EINVAL, "zcbuf backend '" + std::string(forced) +
							     "' (asked for by " + std::string(origin) +
							     ") cannot meet the need of " +
							     need.describe() + ": " + missing);
		}
		return BackendChoice{ std::string(forced), "forced by " + std::string(origin),
				      backend.value() };
	}

	/* 2. A device that imports only its own memory. */
	std::vector<const ConsumerNeed *> own, dma, cpu;
	for (const ConsumerNeed &need : needs) {
		if (need.ownDeviceMemory)
			own.push_back(&need);
		else if (need.dmabuf || need.contiguous || need.namesDeviceNode())
			dma.push_back(&need);
		else
			cpu.push_back(&need);
	}
	if (!own.empty()) {
		const std::string &device = own.front()->device;
		for (const ConsumerNeed *need : own)
			if (need->device != device)
				return Error(EINVAL, own.front()->describe() + " and " +
							     need->describe() +
							     " each import only memory allocated on "
							     "their own device: no one buffer serves both");
		std::string spec = "drm:" + device;
		Result<std::shared_ptr<Backend>> backend = open(spec);
		if (!backend)
			return Error(backend.error().code(),
				     own.front()->describe() + " imports only memory allocated on " +
					     device + ", which does not open: " +
					     backend.error().message());
		for (const ConsumerNeed &need : needs) {
			std::string missing = unmet(*backend.value(), need);
			if (!missing.empty())
				return Error(EINVAL, own.front()->describe() +
							     " imports only memory allocated on " +
							     device + ", which cannot meet the need of " +
							     need.describe() + ": " + missing);
		}
		return BackendChoice{ spec,
				      names(own) + " imports only memory allocated on " + device +
					      ": dumb buffers there",
				      backend.value() };
	}

	/* 3. Dma-bufs of system memory, the first exporter that meets every
	 * need. */
	if (!dma.empty()) {
		bool contiguous = false;
		for (const ConsumerNeed *need : dma)
			contiguous = contiguous || need->contiguous;
		std::vector<std::string> specs = { "module", "dma-heap" };
		if (contiguous) {
			specs.push_back("dma-heap:linux,cma");
			specs.push_back("dma-heap:reserved");
		}
		specs.push_back("udmabuf");
		std::string tried;
		for (const std::string &spec : specs) {
			Result<std::shared_ptr<Backend>> backend = open(spec);
			std::string missing;
			if (backend) {
				for (const ConsumerNeed &need : needs) {
					missing = unmet(*backend.value(), need);
					if (!missing.empty())
						break;
				}
				if (missing.empty())
					return BackendChoice{
						spec,
						names(dma) + " needs a " +
							(contiguous ? "contiguous " : "") +
							"dma-buf: " + spec +
							", the first system-memory exporter that meets it",
						backend.value()
					};
			} else {
				missing = backend.error().message();
			}
			tried += (tried.empty() ? "" : "; ") + spec + ": " +
				 (backend ? "no " + missing : missing);
		}
		/* Dumb buffers on a DRM consumer's own card, where no system
		 * exporter exists (a stock kernel without heaps or udmabuf). */
		for (const ConsumerNeed *need : dma) {
			if (need->contiguous || need->device.rfind("/dev/dri/", 0) != 0)
				continue;
			std::string spec = "drm:" + need->device;
			Result<std::shared_ptr<Backend>> backend = open(spec);
			if (backend && unmet(*backend.value(), *need).empty())
				return BackendChoice{ spec,
						      names(dma) + " needs a dma-buf and no "
								   "system-memory exporter opens (" +
							      tried + "): dumb buffers on " +
							      need->device,
						      backend.value() };
		}
		return Error(ENODEV, names(dma) + " needs a " + (contiguous ? "contiguous " : "") +
					     "dma-buf and no exporter meets it (" + tried + ")");
	}

	/* 4. The CPU and other processes. */
	Result<std::shared_ptr<Backend>> backend = open("memfd");
	if (!backend)
		return Error(backend.error().code(), "memfd: " + backend.error().message());
	std::string reason = cpu.empty() ? std::string("no consumer states a need")
					 : names(cpu) + " maps with the CPU only";
	return BackendChoice{ "memfd",
			      reason + ": memfd, cached pages and no device opened",
			      backend.value() };
}

Result<ConsumerNeed> parseConstraints(std::string_view text, std::string consumer)
{
	ConsumerNeed need;
	need.consumer = std::move(consumer);
	while (!text.empty()) {
		std::size_t comma = text.find(',');
		std::string_view item = text.substr(0, comma);
		text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
		while (!item.empty() && item.front() == ' ')
			item.remove_prefix(1);
		while (!item.empty() && item.back() == ' ')
			item.remove_suffix(1);
		if (item.empty())
			continue;
		std::size_t equals = item.find('=');
		std::string_view key = item.substr(0, equals);
		std::string_view value =
			equals == std::string_view::npos ? std::string_view() : item.substr(equals + 1);
		std::size_t number = 0;
		auto bad = [&](const char *why) {
			return Error(EINVAL, "constraints: '" + std::string(item) + "' " + why +
						     " (known: contiguous, dmabuf, align=N, "
						     "stride-align=N, device=PATH)");
		};
		if (key == "contiguous" && value.empty())
			need.contiguous = true;
		else if (key == "dmabuf" && value.empty())
			need.dmabuf = true;
		else if (key == "align" || key == "stride-align") {
			if (!parseSize(value, number) || number == 0 || (number & (number - 1)))
				return bad("needs a power of two");
			(key == "align" ? need.alignment : need.strideAlignment) = number;
		} else if (key == "device" && !value.empty())
			need.device = std::string(value);
		else
			return bad("is not a constraint");
	}
	return need;
}

} /* namespace zcbuf */
