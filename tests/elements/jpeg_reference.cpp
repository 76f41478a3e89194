/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg_reference.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include <jpeglib.h>

namespace zcbuf::test {

namespace {

struct Errors {
	jpeg_error_mgr pub;
	std::jmp_buf jump;
	char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void errorExit(j_common_ptr cinfo)
{
	Errors *errors = reinterpret_cast<Errors *>(cinfo->err);
	(*cinfo->err->format_message)(cinfo, errors->message);
	std::longjmp(errors->jump, 1);
}

void quiet(j_common_ptr, int) {}

/* The libjpeg part, with no C++ objects alive across its calls. */
bool decodeRaw(const unsigned char *data, unsigned long size, unsigned scaleDenom, int dct,
	       ReferenceImage *image, Errors *errors)
{
	jpeg_decompress_struct cinfo;
	cinfo.err = jpeg_std_error(&errors->pub);
	errors->pub.error_exit = errorExit;
	errors->pub.emit_message = quiet;
	jpeg_create_decompress(&cinfo);
	if (setjmp(errors->jump)) {
		jpeg_destroy_decompress(&cinfo);
		return false;
	}
	jpeg_mem_src(&cinfo, data, size);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.raw_data_out = TRUE;
	cinfo.out_color_space = cinfo.jpeg_color_space;
	cinfo.do_fancy_upsampling = FALSE;
	cinfo.do_block_smoothing = FALSE;
	cinfo.dct_method = static_cast<J_DCT_METHOD>(dct);
	cinfo.scale_num = 1;
	cinfo.scale_denom = scaleDenom;
	jpeg_start_decompress(&cinfo);
	image->width = static_cast<int>(cinfo.output_width);
	image->height = static_cast<int>(cinfo.output_height);

	const int n = cinfo.num_components;
	/* Decode into block-padded buffers, then crop. */
	unsigned char *padded[4] = {};
	unsigned paddedWidth[4] = {}, paddedRows[4] = {};
	const unsigned groupLines =
		static_cast<unsigned>(cinfo.max_v_samp_factor * cinfo.min_DCT_scaled_size);
	const unsigned groups = (cinfo.output_height + groupLines - 1) / groupLines;
	for (int c = 0; c < n; c++) {
		const jpeg_component_info &info = cinfo.comp_info[c];
		paddedWidth[c] = info.width_in_blocks * info.DCT_scaled_size;
		paddedRows[c] = groups * info.v_samp_factor * info.DCT_scaled_size;
		padded[c] = static_cast<unsigned char *>(
			std::calloc(paddedWidth[c], paddedRows[c]));
	}
	JSAMPROW rows[4][32];
	JSAMPARRAY arrays[4] = { rows[0], rows[1], rows[2], rows[3] };
	for (unsigned g = 0; g < groups; g++) {
		for (int c = 0; c < n; c++) {
			unsigned per = cinfo.comp_info[c].v_samp_factor *
				       cinfo.comp_info[c].DCT_scaled_size;
			for (unsigned j = 0; j < per; j++)
				rows[c][j] = padded[c] + (g * per + j) * paddedWidth[c];
		}
		jpeg_read_raw_data(&cinfo, arrays, groupLines);
	}
	for (int c = 0; c < n; c++) {
		const jpeg_component_info &info = cinfo.comp_info[c];
		Plane plane;
		plane.width = static_cast<int>(info.downsampled_width);
		plane.height = static_cast<int>(info.downsampled_height);
		plane.data.resize(static_cast<std::size_t>(plane.width) * plane.height);
		for (int y = 0; y < plane.height; y++)
			std::copy_n(padded[c] + static_cast<std::size_t>(y) * paddedWidth[c],
				    plane.width, plane.data.begin() + static_cast<std::ptrdiff_t>(y) * plane.width);
		image->components.push_back(std::move(plane));
		std::free(padded[c]);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return true;
}

} /* namespace */

ReferenceImage referenceDecode(GstBuffer *jpeg, unsigned scaleDenom, int dct)
{
	ReferenceImage image;
	std::vector<std::uint8_t> bytes = bytesOf(jpeg);
	Errors errors{};
	if (!decodeRaw(bytes.data(), bytes.size(), scaleDenom, dct, &image, &errors))
		image.error = errors.message;
	return image;
}

Plane boxDown(const Plane &plane, int width, int height)
{
	Plane out;
	out.width = width;
	out.height = height;
	out.data.resize(static_cast<std::size_t>(width) * height);
	const int fx = plane.width == width ? 1 : 2;
	const int fy = plane.height == height ? 1 : 2;
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++) {
			int sum = 0, count = 0;
			for (int j = 0; j < fy; j++)
				for (int i = 0; i < fx; i++) {
					int sx = std::min(x * fx + i, plane.width - 1);
					int sy = std::min(y * fy + j, plane.height - 1);
					sum += plane.at(sx, sy);
					count++;
				}
			out.data[static_cast<std::size_t>(y) * width + x] =
				static_cast<std::uint8_t>((sum + count / 2) / count);
		}
	return out;
}

int maxDifference(const Plane &a, const Plane &b)
{
	if (a.width != b.width || a.height != b.height)
		return 256;
	int worst = 0;
	for (std::size_t i = 0; i < a.data.size(); i++)
		worst = std::max(worst, std::abs(int(a.data[i]) - int(b.data[i])));
	return worst;
}

} /* namespace zcbuf::test */
