/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jpeg_reference.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include <gst/video/video.h>

#include <jpeglib.h>

#include <gtest/gtest.h>

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

/* Component planes padded to whole iMCU rows and blocks, edges repeated. */
struct PaddedPlanes {
	int components = 0;
	int h[3] = {}, v[3] = {};
	unsigned width[3] = {}, rows[3] = {};
	std::vector<std::uint8_t> data[3];
};

bool encodeRaw(const PaddedPlanes &planes, int width, int height, int quality, Coding coding,
	       Restarts restart, unsigned char **out, unsigned long *outSize, Errors *errors)
{
	jpeg_compress_struct cinfo;
	cinfo.err = jpeg_std_error(&errors->pub);
	errors->pub.error_exit = errorExit;
	errors->pub.emit_message = quiet;
	jpeg_create_compress(&cinfo);
	if (setjmp(errors->jump)) {
		jpeg_destroy_compress(&cinfo);
		return false;
	}
	jpeg_mem_dest(&cinfo, out, outSize);
	cinfo.image_width = static_cast<JDIMENSION>(width);
	cinfo.image_height = static_cast<JDIMENSION>(height);
	cinfo.input_components = planes.components;
	cinfo.in_color_space = planes.components == 1 ? JCS_GRAYSCALE : JCS_YCbCr;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, quality, TRUE);
	cinfo.raw_data_in = TRUE;
	if (coding == Coding::Progressive)
		jpeg_simple_progression(&cinfo);
	cinfo.arith_code = coding == Coding::Arithmetic;
	cinfo.restart_in_rows = restart.rows;
	cinfo.restart_interval = static_cast<unsigned>(restart.mcus);
	for (int c = 0; c < planes.components; c++) {
		cinfo.comp_info[c].h_samp_factor = planes.h[c];
		cinfo.comp_info[c].v_samp_factor = planes.v[c];
	}
	jpeg_start_compress(&cinfo, TRUE);
	JSAMPROW rows[3][16];
	JSAMPARRAY arrays[3] = { rows[0], rows[1], rows[2] };
	const unsigned groupLines = static_cast<unsigned>(planes.v[0] * 8);
	for (unsigned group = 0; cinfo.next_scanline < cinfo.image_height; group++) {
		for (int c = 0; c < planes.components; c++) {
			unsigned per = static_cast<unsigned>(planes.v[c] * 8);
			for (unsigned j = 0; j < per; j++)
				rows[c][j] = const_cast<std::uint8_t *>(planes.data[c].data()) +
					     (group * per + j) * planes.width[c];
		}
		jpeg_write_raw_data(&cinfo, arrays, groupLines);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	return true;
}

} /* namespace */

std::vector<std::uint8_t> referenceEncode(GstSample *raw, int quality, Coding coding,
					  Restarts restart)
{
	PaddedPlanes planes;
	GstVideoFormat format = sampleFormat(raw);
	int maxH = 1, maxV = 1;
	switch (format) {
	case GST_VIDEO_FORMAT_GRAY8:
		planes.components = 1;
		planes.h[0] = planes.v[0] = 1;
		break;
	case GST_VIDEO_FORMAT_I420:
	case GST_VIDEO_FORMAT_Y42B:
	case GST_VIDEO_FORMAT_Y444:
		planes.components = 3;
		maxH = format == GST_VIDEO_FORMAT_Y444 ? 1 : 2;
		maxV = format == GST_VIDEO_FORMAT_I420 ? 2 : 1;
		planes.h[0] = maxH;
		planes.v[0] = maxV;
		planes.h[1] = planes.v[1] = planes.h[2] = planes.v[2] = 1;
		break;
	default:
		ADD_FAILURE() << "cannot encode " << gst_video_format_to_string(format);
		return {};
	}
	GstVideoInfo info;
	gst_video_info_from_caps(&info, gst_sample_get_caps(raw));
	const int width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
	const unsigned mcusAcross = static_cast<unsigned>((width + maxH * 8 - 1) / (maxH * 8));
	const unsigned mcusDown = static_cast<unsigned>((height + maxV * 8 - 1) / (maxV * 8));
	for (int c = 0; c < planes.components; c++) {
		Plane source = component(raw, c);
		planes.width[c] = mcusAcross * static_cast<unsigned>(planes.h[c]) * 8;
		planes.rows[c] = mcusDown * static_cast<unsigned>(planes.v[c]) * 8;
		planes.data[c].resize(static_cast<std::size_t>(planes.width[c]) * planes.rows[c]);
		for (unsigned y = 0; y < planes.rows[c]; y++)
			for (unsigned x = 0; x < planes.width[c]; x++)
				planes.data[c][y * planes.width[c] + x] =
					source.at(std::min<int>(static_cast<int>(x), source.width - 1),
						  std::min<int>(static_cast<int>(y), source.height - 1));
	}
	unsigned char *out = nullptr;
	unsigned long outSize = 0;
	Errors errors{};
	std::vector<std::uint8_t> jpeg;
	if (encodeRaw(planes, width, height, quality, coding, restart, &out, &outSize, &errors))
		jpeg.assign(out, out + outSize);
	else
		ADD_FAILURE() << "encoding failed: " << errors.message;
	std::free(out);
	return jpeg;
}

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
