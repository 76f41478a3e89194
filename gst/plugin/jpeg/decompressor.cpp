/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libjpeg's raw-data interface hands out one iMCU row ("group") at a time:
 * for every component, v_samp_factor * DCT_scaled_size rows of whole 8x8
 * (or scaled) blocks. Each row pointer we give it receives
 * width_in_blocks * DCT_scaled_size bytes. So a plane can take the rows
 * directly when its stride covers whole blocks (our pool pads strides to 16
 * bytes for that); rows past the bottom of the plane go to a scratch row.
 * Everything else goes through a small block-row buffer ("staging") and is
 * then copied, resampled (libyuv) or interleaved (NV12) into the plane.
 */
#include "jpeg/decompressor.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

#include "jpeg/error.h"

namespace zcbuf::jpeg {

namespace {

/* Rows per group and component: v_samp_factor (at most 2 for the
 * samplings we accept) times DCT_scaled_size (at most 8), and twice that
 * when two groups are batched. */
constexpr unsigned kMaxGroupRows = 32;

std::size_t roundUp(std::size_t value, std::size_t to)
{
	return (value + to - 1) / to * to;
}

/* How one component reaches its plane. */
struct ComponentPlan {
	/* libjpeg's side. */
	unsigned groupRows = 0;
	unsigned rawWidth = 0;
	unsigned rawHeight = 0;
	std::size_t rowBytes = 0;
	/* The plane's side. */
	std::uint8_t *plane = nullptr;
	std::size_t stride = 0;
	unsigned targetWidth = 0;
	unsigned targetHeight = 0;
	/* Raw samples per target sample, 1 or 2 in each direction. */
	unsigned fx = 1;
	unsigned fy = 1;
	bool direct = false;
	/* Groups gathered in staging before they are written out: 2 when a
	 * group has one row and the target halves the rows. */
	unsigned batch = 1;
	std::uint8_t *staging = nullptr;
	std::size_t stagingStride = 0;
	/* Target-size rows of a resampled chroma component waiting to be
	 * interleaved (NV12 only). */
	std::uint8_t *resampled = nullptr;
	std::size_t resampledStride = 0;
};

unsigned factor(unsigned raw, unsigned target)
{
	if (raw == target)
		return 1;
	if ((raw + 1) / 2 == target)
		return 2;
	return 0;
}

/*
 * Halves a batch of staged chroma rows to the target size with 2:1 boxes
 * (libyuv): a box at an odd edge repeats the last real sample, so every
 * target sample is the rounded mean of the samples it covers.
 */
void resampleBatch(ComponentPlan &p, unsigned rawRows, unsigned targetRows, std::uint8_t *dst,
		   std::size_t dstStride)
{
	if (p.fx == 2 && p.rawWidth % 2)
		for (unsigned j = 0; j < rawRows; j++) {
			std::uint8_t *row = p.staging + j * p.stagingStride;
			row[p.rawWidth] = row[p.rawWidth - 1];
		}
	if (p.fy == 2 && rawRows % 2)
		std::memcpy(p.staging + rawRows * p.stagingStride,
			    p.staging + (rawRows - 1) * p.stagingStride, p.stagingStride);

	const int width = static_cast<int>(p.targetWidth);
	const int rows = static_cast<int>(targetRows);
	const int stride = static_cast<int>(p.stagingStride);
	if (p.fx == 2)
		libyuv::ScalePlane(p.staging, stride, 2 * width, 2 * rows, dst,
				   static_cast<int>(dstStride), width, rows, libyuv::kFilterBox);
	else
		libyuv::InterpolatePlane(p.staging, 2 * stride, p.staging + stride, 2 * stride, dst,
					 static_cast<int>(dstStride), width, rows, 128);
}

const char *colorSpaceName(J_COLOR_SPACE space)
{
	switch (space) {
	case JCS_GRAYSCALE:
		return "greyscale";
	case JCS_RGB:
		return "RGB";
	case JCS_YCbCr:
		return "YCbCr";
	case JCS_CMYK:
		return "CMYK";
	case JCS_YCCK:
		return "YCCK";
	default:
		return "unknown";
	}
}

} /* namespace */

const char *toString(Sampling sampling)
{
	switch (sampling) {
	case Sampling::Gray:
		return "greyscale";
	case Sampling::Yuv420:
		return "4:2:0";
	case Sampling::Yuv422:
		return "4:2:2";
	case Sampling::Yuv444:
		return "4:4:4";
	}
	return "?";
}

std::vector<GstVideoFormat> outputFormats(Sampling sampling)
{
	switch (sampling) {
	case Sampling::Gray:
		return { GST_VIDEO_FORMAT_GRAY8 };
	case Sampling::Yuv420:
		return { GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12 };
	case Sampling::Yuv422:
		return { GST_VIDEO_FORMAT_Y42B, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12 };
	case Sampling::Yuv444:
		return { GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12 };
	}
	return {};
}

struct Decompressor::Impl {
	struct jpeg_decompress_struct cinfo;
	ErrorManager errors;
	MemorySource source;

	std::array<ComponentPlan, 3> plans;
	int components = 0;
	bool interleave = false;
	std::vector<std::uint8_t> staging;
	std::vector<std::uint8_t> scratch;
	std::array<std::array<JSAMPROW, kMaxGroupRows>, 3> rows{};
	std::array<JSAMPARRAY, 3> rowArrays{};

	Impl()
	{
		installErrorManager(reinterpret_cast<j_common_ptr>(&cinfo), &errors);
		jpeg_create_decompress(&cinfo);
		for (std::size_t c = 0; c < rows.size(); c++)
			rowArrays[c] = rows[c].data();
	}

	~Impl() { jpeg_destroy_decompress(&cinfo); }

	void begin(const std::uint8_t *data, std::size_t size)
	{
		resetErrorManager(&errors);
		setMemorySource(&cinfo, &source, data, size);
	}

	bool sampling(Sampling *out, std::string *error) const;
	void configure(const DecodeOptions &options);
	bool readHeader(const DecodeOptions &options, Sampling *sampling, std::string *error);
	bool plan(GstVideoFrame *frame, Sampling sampling, DecodeReport *report,
		  std::string *error);
	void pointRows(unsigned group);
	void writeOut(unsigned group, bool last);
	bool readAllGroups();
};

bool Decompressor::Impl::sampling(Sampling *out, std::string *error) const
{
	if (cinfo.num_components == 1 && cinfo.jpeg_color_space == JCS_GRAYSCALE) {
		*out = Sampling::Gray;
		return true;
	}
	if (cinfo.num_components != 3 || cinfo.jpeg_color_space != JCS_YCbCr) {
		*error = std::string("unsupported colour space ") +
			 colorSpaceName(cinfo.jpeg_color_space) + " with " +
			 std::to_string(cinfo.num_components) +
			 " components (only greyscale and YCbCr are decoded)";
		return false;
	}
	const jpeg_component_info *c = cinfo.comp_info;
	bool chromaPlain = c[1].h_samp_factor == 1 && c[1].v_samp_factor == 1 &&
			   c[2].h_samp_factor == 1 && c[2].v_samp_factor == 1;
	if (chromaPlain && c[0].h_samp_factor == 2 && c[0].v_samp_factor == 2)
		*out = Sampling::Yuv420;
	else if (chromaPlain && c[0].h_samp_factor == 2 && c[0].v_samp_factor == 1)
		*out = Sampling::Yuv422;
	else if (chromaPlain && c[0].h_samp_factor == 1 && c[0].v_samp_factor == 1)
		*out = Sampling::Yuv444;
	else {
		*error = "unsupported chroma sampling " + std::to_string(c[0].h_samp_factor) +
			 "x" + std::to_string(c[0].v_samp_factor) + ", " +
			 std::to_string(c[1].h_samp_factor) + "x" +
			 std::to_string(c[1].v_samp_factor) + ", " +
			 std::to_string(c[2].h_samp_factor) + "x" +
			 std::to_string(c[2].v_samp_factor) +
			 " (only 4:2:0, 4:2:2 and 4:4:4 are decoded)";
		return false;
	}
	return true;
}

void Decompressor::Impl::configure(const DecodeOptions &options)
{
	cinfo.raw_data_out = TRUE;
	cinfo.out_color_space = cinfo.jpeg_color_space;
	/* What jpegdec sets, so that the same IDCT gives the same pixels. */
	cinfo.do_fancy_upsampling = FALSE;
	cinfo.do_block_smoothing = FALSE;
	cinfo.dct_method = options.dctMethod;
	cinfo.scale_num = 1;
	cinfo.scale_denom = options.scaleDenom;
}

/* The header, its sampling checked and the decoder set up for it; called
 * under the caller's setjmp (see jpegerror.h). On false the decompressor
 * is aborted and *error says why. */
bool Decompressor::Impl::readHeader(const DecodeOptions &options, Sampling *out,
				    std::string *error)
{
	jpeg_read_header(&cinfo, TRUE);
	if (!sampling(out, error)) {
		jpeg_abort_decompress(&cinfo);
		return false;
	}
	configure(options);
	return true;
}

bool Decompressor::Impl::plan(GstVideoFrame *frame, Sampling sampling, DecodeReport *report,
			      std::string *error)
{
	GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(frame);
	std::vector<GstVideoFormat> formats = outputFormats(sampling);
	if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
		*error = std::string("a ") + toString(sampling) + " image cannot be decoded to " +
			 gst_video_format_to_string(format);
		return false;
	}
	if (cinfo.output_width != static_cast<JDIMENSION>(GST_VIDEO_FRAME_WIDTH(frame)) ||
	    cinfo.output_height != static_cast<JDIMENSION>(GST_VIDEO_FRAME_HEIGHT(frame))) {
		*error = "the image decodes to " + std::to_string(cinfo.output_width) + "x" +
			 std::to_string(cinfo.output_height) + ", the frame is " +
			 std::to_string(GST_VIDEO_FRAME_WIDTH(frame)) + "x" +
			 std::to_string(GST_VIDEO_FRAME_HEIGHT(frame));
		return false;
	}

	components = cinfo.num_components;
	interleave = format == GST_VIDEO_FORMAT_NV12;
	std::size_t stagingBytes = 0;
	std::size_t scratchBytes = 0;
	for (int c = 0; c < components; c++) {
		const jpeg_component_info &info = cinfo.comp_info[c];
		ComponentPlan &p = plans[c];
		p = ComponentPlan();
		p.groupRows = static_cast<unsigned>(info.v_samp_factor * info.DCT_scaled_size);
		p.rawWidth = info.downsampled_width;
		p.rawHeight = info.downsampled_height;
		p.rowBytes = static_cast<std::size_t>(info.width_in_blocks) *
			     static_cast<std::size_t>(info.DCT_scaled_size);
		guint plane = interleave ? std::min(c, 1) : static_cast<guint>(c);
		p.plane = static_cast<std::uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane));
		p.stride = static_cast<std::size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane));
		p.targetWidth = static_cast<unsigned>(GST_VIDEO_FRAME_COMP_WIDTH(frame, c));
		p.targetHeight = static_cast<unsigned>(GST_VIDEO_FRAME_COMP_HEIGHT(frame, c));
		p.fx = factor(p.rawWidth, p.targetWidth);
		p.fy = factor(p.rawHeight, p.targetHeight);
		/* Chroma is only ever halved in both directions (4:4:4 and
		 * scaled 4:2:0 to 4:2:0) or vertically (4:2:2 to 4:2:0). */
		bool supported = (p.fx == 1 && p.fy == 1) || (p.fx == 1 && p.fy == 2) ||
				 (p.fx == 2 && p.fy == 2);
		if (!supported || p.groupRows == 0) {
			*error = "component " + std::to_string(c) + " decodes to " +
				 std::to_string(p.rawWidth) + "x" + std::to_string(p.rawHeight) +
				 ", which does not resample to " + std::to_string(p.targetWidth) +
				 "x" + std::to_string(p.targetHeight);
			return false;
		}
		bool chroma = c > 0;
		p.direct = p.fx == 1 && p.fy == 1 && !(chroma && interleave) &&
			   p.stride >= p.rowBytes;
		p.batch = p.groupRows % p.fy ? 2 : 1;
		if (p.groupRows * p.batch > kMaxGroupRows) {
			*error = "unexpected block rows per iMCU row: " +
				 std::to_string(p.groupRows);
			return false;
		}
		if (p.direct) {
			scratchBytes = std::max(scratchBytes, p.rowBytes);
		} else {
			/* Room for a repeated last column when halving an odd
			 * width. */
			p.stagingStride = roundUp(std::max<std::size_t>(p.rowBytes,
									 2 * p.targetWidth),
						  64);
			stagingBytes += p.stagingStride * p.groupRows * p.batch;
			if (chroma && interleave && (p.fx != 1 || p.fy != 1)) {
				p.resampledStride = roundUp(p.targetWidth, 64);
				stagingBytes += p.resampledStride * p.groupRows * p.batch;
			}
			(chroma ? report->stagedChroma : report->stagedLuma) = true;
		}
	}

	if (staging.size() < stagingBytes)
		staging.resize(stagingBytes);
	if (scratch.size() < scratchBytes)
		scratch.resize(scratchBytes);
	std::uint8_t *next = staging.data();
	for (int c = 0; c < components; c++) {
		ComponentPlan &p = plans[c];
		if (p.direct)
			continue;
		p.staging = next;
		next += p.stagingStride * p.groupRows * p.batch;
		if (p.resampledStride) {
			p.resampled = next;
			next += p.resampledStride * p.groupRows * p.batch;
		}
	}
	return true;
}

void Decompressor::Impl::pointRows(unsigned group)
{
	for (int c = 0; c < components; c++) {
		const ComponentPlan &p = plans[c];
		for (unsigned j = 0; j < p.groupRows; j++) {
			if (p.direct) {
				std::size_t row = static_cast<std::size_t>(group) * p.groupRows + j;
				rows[c][j] = row < p.targetHeight ? p.plane + row * p.stride
								  : scratch.data();
			} else {
				std::size_t row = (group % p.batch) * p.groupRows + j;
				rows[c][j] = p.staging + row * p.stagingStride;
			}
		}
	}
}

void Decompressor::Impl::writeOut(unsigned group, bool last)
{
	for (int c = 0; c < components; c++) {
		ComponentPlan &p = plans[c];
		if (p.direct || (group % p.batch != p.batch - 1 && !last))
			continue;
		unsigned firstRaw = (group - group % p.batch) * p.groupRows;
		if (firstRaw >= p.rawHeight)
			continue;
		unsigned rawRows = std::min((group % p.batch + 1) * p.groupRows,
					    p.rawHeight - firstRaw);
		unsigned firstTarget = firstRaw / p.fy;
		unsigned targetRows = std::min((rawRows + p.fy - 1) / p.fy,
					       p.targetHeight - firstTarget);
		bool merge = c > 0 && interleave;
		bool resample = p.fx != 1 || p.fy != 1;

		/* Where this component's target-size rows end up before any
		 * interleaving. */
		const std::uint8_t *rowsOut = p.staging;
		std::size_t rowsOutStride = p.stagingStride;
		if (resample) {
			std::uint8_t *dst = merge ? p.resampled : p.plane + firstTarget * p.stride;
			std::size_t dstStride = merge ? p.resampledStride : p.stride;
			resampleBatch(p, rawRows, targetRows, dst, dstStride);
			rowsOut = dst;
			rowsOutStride = dstStride;
		} else if (!merge) {
			for (unsigned j = 0; j < targetRows; j++)
				std::memcpy(p.plane + (firstTarget + j) * p.stride,
					    p.staging + j * p.stagingStride, p.targetWidth);
		}

		if (merge && c == 2) {
			const ComponentPlan &u = plans[1];
			const std::uint8_t *uRows = resample ? u.resampled : u.staging;
			std::size_t uStride = resample ? u.resampledStride : u.stagingStride;
			libyuv::MergeUVPlane(uRows, static_cast<int>(uStride), rowsOut,
					     static_cast<int>(rowsOutStride),
					     p.plane + firstTarget * p.stride,
					     static_cast<int>(p.stride),
					     static_cast<int>(p.targetWidth),
					     static_cast<int>(targetRows));
		}
	}
}

/* Called between setjmp() and the end of the image: no objects with
 * destructors here (see jpegerror.h). Stops at the first sign of damage:
 * libjpeg would go on filling the rest of a picture (whatever size its
 * header claims) with grey. */
bool Decompressor::Impl::readAllGroups()
{
	JDIMENSION linesPerGroup =
		static_cast<JDIMENSION>(cinfo.max_v_samp_factor * cinfo.min_DCT_scaled_size);
	unsigned group = 0;
	while (cinfo.output_scanline < cinfo.output_height) {
		pointRows(group);
		jpeg_read_raw_data(&cinfo, rowArrays.data(), linesPerGroup);
		if (errors.corruptWarnings > 0)
			return false;
		writeOut(group, cinfo.output_scanline >= cinfo.output_height);
		group++;
	}
	return true;
}

Decompressor::Decompressor() : impl_(std::make_unique<Impl>()) {}

Decompressor::~Decompressor() = default;

Decompressor::HeaderResult Decompressor::readHeader(const std::uint8_t *data, std::size_t size,
						    const DecodeOptions &options, Header *header,
						    std::string *error)
{
	Impl &d = *impl_;
	d.begin(data, size);
	if (setjmp(d.errors.jump)) {
		jpeg_abort_decompress(&d.cinfo);
		error->assign(d.errors.message);
		return HeaderResult::Damaged;
	}
	Sampling sampling;
	if (!d.readHeader(options, &sampling, error))
		return HeaderResult::Unsupported;
	jpeg_calc_output_dimensions(&d.cinfo);
	header->codedWidth = d.cinfo.image_width;
	header->codedHeight = d.cinfo.image_height;
	header->width = d.cinfo.output_width;
	header->height = d.cinfo.output_height;
	header->sampling = sampling;
	jpeg_abort_decompress(&d.cinfo);
	return HeaderResult::Ok;
}

bool Decompressor::decode(const std::uint8_t *data, std::size_t size,
			  const DecodeOptions &options, GstVideoFrame *frame, DecodeReport *report,
			  std::string *error)
{
	Impl &d = *impl_;
	d.begin(data, size);
	if (setjmp(d.errors.jump)) {
		jpeg_abort_decompress(&d.cinfo);
		error->assign(d.errors.message);
		return false;
	}
	Sampling sampling;
	if (!d.readHeader(options, &sampling, error))
		return false;
	jpeg_start_decompress(&d.cinfo);
	if (!d.plan(frame, sampling, report, error)) {
		jpeg_abort_decompress(&d.cinfo);
		return false;
	}
	if (d.readAllGroups())
		jpeg_finish_decompress(&d.cinfo);
	else
		jpeg_abort_decompress(&d.cinfo);

	report->otherWarnings = static_cast<int>(d.cinfo.err->num_warnings) - d.errors.corruptWarnings;
	if (d.errors.corruptWarnings > 0) {
		error->assign("damaged or truncated data: ");
		error->append(d.errors.message);
		return false;
	}
	return true;
}

} /* namespace zcbuf::jpeg */
