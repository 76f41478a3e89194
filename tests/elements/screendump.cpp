/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "screendump.h"

#include <glib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace zcbuf::test {

namespace {

bool exists(const std::string &path)
{
	return access(path.c_str(), F_OK) == 0;
}

std::string readAll(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	return std::string(std::istreambuf_iterator<char>(in), {});
}

/* A binary PPM (P6, maxval 255) as QEMU writes it. */
Screendump parsePpm(const std::string &bytes)
{
	Screendump image;
	std::istringstream in(bytes);
	std::string magic;
	int maxval = 0;
	in >> magic >> image.width >> image.height >> maxval;
	in.get(); /* the one whitespace byte before the pixels */
	const std::streamoff start = in ? std::streamoff(in.tellg()) : -1;
	if (!in || start < 0 || magic != "P6" || maxval != 255 || image.width <= 0 ||
	    image.height <= 0 ||
	    bytes.size() - std::size_t(start) < std::size_t(image.width) * image.height * 3) {
		image.error = "not a P6 PPM of the size it names";
		return image;
	}
	const std::size_t size = std::size_t(image.width) * image.height * 3;
	image.rgb.assign(bytes.begin() + start, bytes.begin() + start + std::streamoff(size));
	return image;
}

} /* namespace */

Screendump screendump(const std::string &name)
{
	Screendump image;
	const char *dir = g_getenv("ZCBUF_VM_SCREENDUMP_DIR");
	if (!dir) {
		image.error = "ZCBUF_VM_SCREENDUMP_DIR is not set: not in vm-run's guest";
		return image;
	}
	const std::string base = std::string(dir) + "/" + name;
	std::remove((base + ".ppm").c_str());
	std::remove((base + ".error").c_str());
	/* Written under another name first: vm-run must not read half a
	 * request. */
	const std::string partial = std::string(dir) + "/." + name + ".partial";
	std::ofstream(partial) << "ppm\n";
	if (std::rename(partial.c_str(), (base + ".request").c_str()) != 0) {
		image.error = "cannot write " + base + ".request";
		return image;
	}
	auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
	while (std::chrono::steady_clock::now() < end) {
		if (exists(base + ".ppm"))
			return parsePpm(readAll(base + ".ppm"));
		if (exists(base + ".error")) {
			image.error = "screendump failed: " + readAll(base + ".error");
			return image;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	image.error = "no screendump came in 120 s";
	return image;
}

std::vector<std::uint8_t> rgbOfBgrx(const std::vector<std::uint8_t> &bgrx, int width, int height)
{
	std::vector<std::uint8_t> rgb;
	rgb.reserve(std::size_t(width) * height * 3);
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++) {
			const std::uint8_t *p = bgrx.data() + (std::size_t(y) * width + x) * 4;
			rgb.push_back(p[2]);
			rgb.push_back(p[1]);
			rgb.push_back(p[0]);
		}
	return rgb;
}

} /* namespace zcbuf::test */
