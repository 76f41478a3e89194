/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zcconvert: the GStreamer side (negotiation, allocation, frames) of the
 * conversion engine in convert/.
 *
 * Allocation: upstream is offered a zcbuf pool (so that decoders that take
 * the downstream pool, jpegdec, avdec_h264, vp8dec, decode into zcbuf
 * memory); the output goes to downstream's pool when that pool is zcbuf's
 * or hands out fd memory, else to a zcbuf pool of zcconvert's own, laid out
 * as downstream's padding and stride alignment ask.
 *
 * Method: cpu converts with the engine in convert/; gl with the one in gl/
 * (GLES on a DRM device). gl attaches its device as a consumer both ways:
 * upstream is asked for memory on it (on virtio-gpu, its own dumb buffers:
 * it imports nothing else) and the output pool is on it. auto takes gl
 * only with a device property, for a format pair gl converts, and when
 * the first frame's memory imports; otherwise cpu, with the reason in the
 * log and in method-in-use. Without a device property auto opens nothing:
 * it is the cpu method.
 */
#include "gstzcconvert.h"
#include "gstzcguard.h"

#include <gst/video/video.h>
#include <gst/zcbuf/gstzcbuf.h>
#include <gst/zcbuf/gstzcbufcopy.h>

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "convert/band_runner.h"
#include "convert/converter.h"
#include "convert/image.h"
#include "gl/converter.h"

GST_DEBUG_CATEGORY_STATIC(gst_zc_convert_debug);
#define GST_CAT_DEFAULT gst_zc_convert_debug
GST_DEBUG_CATEGORY_STATIC(CAT_PERFORMANCE);

namespace {

constexpr guint kDefaultThreads = 1;
constexpr guint kMaxThreads = 64;

enum {
	PROP_0,
	PROP_BACKEND,
	PROP_N_THREADS,
	PROP_METHOD,
	PROP_CONSTRAINTS,
	PROP_CHOSEN_BACKEND,
	PROP_DEVICE,
	PROP_METHOD_IN_USE,
	PROP_GL_IMPORTS,
	PROP_GL_CACHE_HITS,
};

/* What converts the frames of the current caps. */
enum class Engine {
	Cpu,
	/* auto with a GPU: gl if the first frame imports, else cpu. */
	GlIfImports,
	Gl,
};

struct State {
	/* Properties, under the object lock. */
	std::string backend;
	std::string constraints;
	guint threads = kDefaultThreads;
	std::string device;
	std::string methodInUse;

	/* Streaming thread only. */
	zcbuf::convert::Converter converter;
	zcbuf::convert::BandRunner runner;
	bool outputDmabuf = false;
	/* Same format and size, but memory:DMABuf promised downstream for
	 * input that did not promise it: dma-buf memory goes on as it is,
	 * anything else is copied into the output pool. */
	bool ensureDmabuf = false;
	guint64 frames = 0;

	/* The GPU path (streaming thread; stop() drops it). */
	Engine engine = Engine::Cpu;
	std::shared_ptr<zcbuf::gl::Context> glContext;
	std::unique_ptr<zcbuf::gl::Converter> gl;
	/* Copies of gl's counters, for the properties. */
	std::atomic<guint64> glImports{ 0 }, glHits{ 0 };
};

GstCaps *templateCaps()
{
	return gst_caps_from_string(
		GST_VIDEO_CAPS_MAKE_WITH_FEATURES(GST_CAPS_FEATURE_MEMORY_DMABUF, ZCCONVERT_FORMATS)
		";" GST_VIDEO_CAPS_MAKE(ZCCONVERT_FORMATS));
}


} /* namespace */

struct _GstZcConvert {
	GstVideoFilter parent;
	GstZcConvertMethod method;
	State *state;
};

G_DEFINE_TYPE(GstZcConvert, gst_zc_convert, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(zcconvert, "zcconvert", GST_RANK_NONE, GST_TYPE_ZC_CONVERT)

GType gst_zc_convert_method_get_type(void)
{
	static gsize type = 0;
	static const GEnumValue values[] = {
		{ GST_ZCCONVERT_METHOD_CPU, "On the CPU: libyuv and SIMD rows, n-threads bands",
		  "cpu" },
		{ GST_ZCCONVERT_METHOD_GL,
		  "On the GPU: GLES shaders on a DRM device, dma-buf in and out", "gl" },
		{ GST_ZCCONVERT_METHOD_AUTO,
		  "gl when the device property names a GPU that imports the input, else cpu",
		  "auto" },
		{ 0, nullptr, nullptr },
	};
	if (g_once_init_enter(&type))
		g_once_init_leave(&type, g_enum_register_static("GstZcConvertMethod", values));
	return type;
}

namespace {

std::string constraintsOf(GstZcConvert *self)
{
	GST_OBJECT_LOCK(self);
	std::string constraints = self->state->constraints;
	GST_OBJECT_UNLOCK(self);
	return constraints;
}

std::string backendOf(GstZcConvert *self)
{
	GST_OBJECT_LOCK(self);
	std::string backend = self->state->backend;
	GST_OBJECT_UNLOCK(self);
	return backend;
}

GstCaps *transformCaps(GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps,
		       GstCaps *filter)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	/* Towards the source pad memory:DMABuf is offered only when the
	 * memory zcconvert writes into is dma-buf; the sink pad takes both. */
	bool offerDmabuf = direction == GST_PAD_SRC || gst_zcbuf_backend_may_give_dmabuf(backendOf(self).c_str());

	GstCaps *result = gst_caps_new_empty();
	for (guint i = 0; i < gst_caps_get_size(caps); i++) {
		GstStructure *s = gst_structure_copy(gst_caps_get_structure(caps, i));
		/* Format, size and colorimetry are what zcconvert changes. */
		gst_structure_remove_fields(s, "format", "colorimetry", "chroma-site", nullptr);
		gst_structure_set(s, "width", GST_TYPE_INT_RANGE, 1, G_MAXINT, "height",
				  GST_TYPE_INT_RANGE, 1, G_MAXINT, nullptr);
		if (gst_structure_has_field(s, "pixel-aspect-ratio"))
			gst_structure_set(s, "pixel-aspect-ratio", GST_TYPE_FRACTION_RANGE, 1,
					  G_MAXINT, G_MAXINT, 1, nullptr);
		GstCaps *formats = templateCaps();
		for (guint j = 0; j < gst_caps_get_size(formats); j++) {
			bool dmabuf = gst_zcbuf_caps_has_dmabuf_feature(formats, j);
			if (dmabuf && !offerDmabuf)
				continue;
			GstStructure *t = gst_structure_copy(s);
			gst_structure_set_value(t, "format",
						gst_structure_get_value(
							gst_caps_get_structure(formats, j), "format"));
			gst_caps_append_structure_full(
				result, t,
				gst_caps_features_copy(gst_caps_get_features(formats, j)));
		}
		gst_caps_unref(formats);
		gst_structure_free(s);
	}
	result = gst_caps_simplify(result);
	if (filter) {
		GstCaps *filtered = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
		gst_caps_unref(result);
		result = filtered;
	}
	GST_DEBUG_OBJECT(trans, "%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, caps, result);
	return result;
}

bool isYuvFormat(const gchar *format)
{
	GstVideoFormat f = gst_video_format_from_string(format);
	const GstVideoFormatInfo *info = gst_video_format_get_info(f);
	return info && GST_VIDEO_FORMAT_INFO_IS_YUV(info);
}

/* Fixates width and height near the input's, keeping the display aspect
 * ratio when downstream fixed only one of them. */
void fixateSize(GstStructure *in, GstStructure *out)
{
	gint inW = 0, inH = 0, parN = 1, parD = 1, outParN = 1, outParD = 1;
	gst_structure_get_int(in, "width", &inW);
	gst_structure_get_int(in, "height", &inH);
	gst_structure_get_fraction(in, "pixel-aspect-ratio", &parN, &parD);
	if (gst_structure_has_field(out, "pixel-aspect-ratio")) {
		gst_structure_fixate_field_nearest_fraction(out, "pixel-aspect-ratio", parN, parD);
		gst_structure_get_fraction(out, "pixel-aspect-ratio", &outParN, &outParD);
	}
	const GValue *w = gst_structure_get_value(out, "width");
	const GValue *h = gst_structure_get_value(out, "height");
	bool wFixed = w && G_VALUE_HOLDS_INT(w), hFixed = h && G_VALUE_HOLDS_INT(h);
	if (wFixed && !hFixed && inW > 0 && parD > 0) {
		gint outW = g_value_get_int(w);
		/* height = width * outPar / DAR, DAR = inW * par / inH */
		guint64 num = static_cast<guint64>(outW) * outParN * inH * parD;
		guint64 den = static_cast<guint64>(outParD) * inW * parN;
		gint outH = den ? static_cast<gint>((num + den / 2) / den) : inH;
		gst_structure_fixate_field_nearest_int(out, "height", MAX(outH, 1));
	} else if (hFixed && !wFixed && inH > 0 && parN > 0) {
		gint outH = g_value_get_int(h);
		guint64 num = static_cast<guint64>(outH) * inW * parN * outParD;
		guint64 den = static_cast<guint64>(inH) * parD * outParN;
		gint outW = den ? static_cast<gint>((num + den / 2) / den) : inW;
		gst_structure_fixate_field_nearest_int(out, "width", MAX(outW, 1));
	} else {
		gst_structure_fixate_field_nearest_int(out, "width", inW);
		gst_structure_fixate_field_nearest_int(out, "height", inH);
	}
}

GstCaps *fixateCaps(GstBaseTransform *trans, GstPadDirection direction, GstCaps *caps,
		    GstCaps *othercaps)
{
	othercaps = gst_caps_truncate(othercaps);
	othercaps = gst_caps_make_writable(othercaps);
	if (direction != GST_PAD_SINK || gst_caps_is_empty(othercaps))
		return gst_caps_fixate(othercaps);

	GstStructure *in = gst_caps_get_structure(caps, 0);
	GstStructure *out = gst_caps_get_structure(othercaps, 0);
	const gchar *inFormat = gst_structure_get_string(in, "format");
	/* The input's format when downstream takes it: no conversion. */
	if (inFormat)
		gst_structure_fixate_field_string(out, "format", inFormat);
	fixateSize(in, out);

	/* YUV to YUV keeps the input's colorimetry and siting, so that no
	 * matrix is applied; RGB and gray take their defaults. */
	const gchar *outFormat = gst_structure_get_string(out, "format");
	if (inFormat && outFormat && isYuvFormat(inFormat) && isYuvFormat(outFormat)) {
		for (const char *field : { "colorimetry", "chroma-site" }) {
			const gchar *value = gst_structure_get_string(in, field);
			if (!value)
				continue;
			if (!gst_structure_has_field(out, field))
				gst_structure_set(out, field, G_TYPE_STRING, value, nullptr);
			else
				gst_structure_fixate_field_string(out, field, value);
		}
	}
	othercaps = gst_caps_fixate(othercaps);
	GST_DEBUG_OBJECT(trans, "fixated to %" GST_PTR_FORMAT, othercaps);
	return othercaps;
}

void setMethodInUse(GstZcConvert *self, const std::string &text)
{
	GST_INFO_OBJECT(self, "method in use: %s", text.c_str());
	GST_OBJECT_LOCK(self);
	self->state->methodInUse = text;
	GST_OBJECT_UNLOCK(self);
}

std::string deviceOf(GstZcConvert *self)
{
	GST_OBJECT_LOCK(self);
	std::string device = self->state->device;
	GST_OBJECT_UNLOCK(self);
	return device;
}

/* A GL context on @device ("" for the first card that has a GPU), kept
 * while the device stays the same. */
zcbuf::Result<std::shared_ptr<zcbuf::gl::Context>> glContextFor(State &state, const std::string &device)
{
	if (state.glContext && (device.empty() || state.glContext->node() == device))
		return state.glContext;
	/* vgem has no renderer: Mesa's software fallback on it cannot read
	 * the buffers it is given (MAP_DUMB is refused on its nodes). */
	auto context = device.empty() ? zcbuf::gl::openFirstCard("vgem")
				      : zcbuf::gl::Context::open(device);
	if (context)
		state.glContext = context.value();
	return context;
}

/* Picks the engine for @in to @out by the method property; false after a
 * negotiation error (method=gl and no GPU path for the pair). */
bool chooseEngine(GstZcConvert *self, const GstVideoInfo &in, const GstVideoInfo &out, bool noConversion)
{
	State &state = *self->state;
	GST_OBJECT_LOCK(self);
	GstZcConvertMethod method = self->method;
	GST_OBJECT_UNLOCK(self);
	state.engine = Engine::Cpu;
	if (noConversion) {
		setMethodInUse(self, "none: the caps need no conversion");
		return true;
	}
	if (method == GST_ZCCONVERT_METHOD_CPU) {
		setMethodInUse(self, "cpu: method=cpu");
		return true;
	}
	std::string device = deviceOf(self);
	if (method == GST_ZCCONVERT_METHOD_AUTO && device.empty()) {
		setMethodInUse(self, "cpu: auto without a device property opens no GPU");
		return true;
	}
	std::string why;
	bool gl = method == GST_ZCCONVERT_METHOD_GL;
	auto fail = [&](const std::string &reason) {
		if (gl) {
			GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
					  ("zcconvert method=gl cannot convert %s to %s",
					   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&in)),
					   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&out))),
					  ("%s", reason.c_str()));
			return false;
		}
		GST_CAT_INFO_OBJECT(CAT_PERFORMANCE, self, "auto converts on the CPU: %s", reason.c_str());
		setMethodInUse(self, "cpu: " + reason);
		return true;
	};
	if (!zcbuf::gl::Converter::supports(in, out, why))
		return fail(why);
	auto context = glContextFor(state, device);
	if (!context)
		return fail("no GPU: " + context.error().message());
	if (!state.gl)
		state.gl = std::make_unique<zcbuf::gl::Converter>();
	if (auto configured = state.gl->configure(context.value(), in, out); !configured)
		return fail("GL on " + context.value()->node() + ": " + configured.error().message());
	const auto &c = *context.value();
	std::string where = c.node() + " (" + c.driver() + ", " + c.renderer() + ")";
	if (gl) {
		state.engine = Engine::Gl;
		setMethodInUse(self, "gl: method=gl on " + where);
	} else {
		state.engine = Engine::GlIfImports;
		setMethodInUse(self, "gl: auto on " + where + ", if the first frame imports");
	}
	return true;
}

gboolean setInfo(GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in, GstCaps *outcaps,
		 GstVideoInfo *out)
{
	GstZcConvert *self = GST_ZC_CONVERT(filter);
	State *state = self->state;

	std::string error;
	/* The old plan's scratch goes first: two plans never coexist. */
	state->converter = zcbuf::convert::Converter();
	zcbuf::convert::Converter converter;
	if (!converter.configure(*in, *out, error)) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
				  ("zcconvert cannot convert %dx%d %s to %dx%d %s",
				   GST_VIDEO_INFO_WIDTH(in), GST_VIDEO_INFO_HEIGHT(in),
				   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(in)),
				   GST_VIDEO_INFO_WIDTH(out), GST_VIDEO_INFO_HEIGHT(out),
				   gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(out))),
				  ("%s (%" GST_PTR_FORMAT " to %" GST_PTR_FORMAT ")", error.c_str(),
				   incaps, outcaps));
		return FALSE;
	}
	std::string work = converter.describe();
	bool nothing = !converter.hasWork();
	if (!nothing && GST_VIDEO_INFO_IS_INTERLACED(in)) {
		GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
				  ("zcconvert does not convert interlaced video"),
				  ("%" GST_PTR_FORMAT " to %" GST_PTR_FORMAT, incaps, outcaps));
		return FALSE;
	}
	state->converter = std::move(converter);
	state->outputDmabuf = gst_zcbuf_caps_has_dmabuf_feature(outcaps, 0);
	/* Caps that differ only in their memory feature are no passthrough
	 * when the output promises dma-bufs the input did not. */
	state->ensureDmabuf = nothing && state->outputDmabuf &&
			      !gst_zcbuf_caps_has_dmabuf_feature(incaps, 0);
	nothing = nothing && !state->ensureDmabuf;
	gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), nothing);
	if (!chooseEngine(self, *in, *out, nothing || state->ensureDmabuf))
		return FALSE;
	GST_INFO_OBJECT(self, "%s (%" G_GSIZE_FORMAT " bytes of scratch images): %" GST_PTR_FORMAT
			" -> %" GST_PTR_FORMAT,
			nothing ? "passthrough" : work.c_str(), state->converter.scratchBytes(), incaps,
			outcaps);
	return TRUE;
}

/* The GPU's attach: memory on its device, which on virtio-gpu (6.1
 * imports no foreign dma-buf) means its own dumb buffers. auto converts
 * what does not import on the CPU: its need is a preference. */
void addGlNeeds(GstZcConvert *self, GstQuery *query)
{
	State &state = *self->state;
	if (state.engine == Engine::Cpu || !state.gl || !state.gl->context())
		return;
	const zcbuf::gl::Context &context = *state.gl->context();
	GstStructure *needs = gst_structure_new(
		GST_ZCBUF_CONSUMER_NEEDS, "consumer", G_TYPE_STRING, GST_OBJECT_NAME(self), "device",
		G_TYPE_STRING, context.node().c_str(), "dmabuf", G_TYPE_BOOLEAN, TRUE,
		"own-device-memory", G_TYPE_BOOLEAN, context.driver() == "virtio_gpu", "optional",
		G_TYPE_BOOLEAN, state.engine != Engine::Gl, nullptr);
	gst_zcbuf_query_add_consumer_needs(query, needs);
	gst_structure_free(needs);
}

gboolean decideAllocation(GstBaseTransform *trans, GstQuery *query)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	if (self->state->engine != Engine::Cpu) {
		/* GL draws only into memory on its device: a pool of zcconvert's
		 * own, on that device, rather than downstream's. */
		while (gst_query_get_n_allocation_pools(query) > 0)
			gst_query_remove_nth_allocation_pool(query, 0);
		addGlNeeds(self, query);
	}
	std::string backend = backendOf(self);
	std::string constraints = constraintsOf(self);
	GstZcbufOutputParams params = {};
	params.backend = backend.c_str();
	params.dmabuf = self->state->outputDmabuf;
	params.constraints = constraints.c_str();
	return gst_zcbuf_decide_allocation(GST_ELEMENT(self), query, &params);
}

gboolean proposeAllocation(GstBaseTransform *trans, GstQuery *decideQuery, GstQuery *query)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	GstCaps *caps = nullptr;
	gst_query_parse_allocation(query, &caps, nullptr);
	std::string backend = backendOf(self);
	/* A backend asked for and missing is an error, passthrough or not. */
	if (!gst_zcbuf_element_open_backend(GST_ELEMENT(self), backend.c_str()))
		return FALSE;

	if (!decideQuery) {
		/* Passthrough: the buffers go on downstream, so downstream's
		 * answer counts; zcconvert's pool only when it has none. */
		gst_pad_peer_query(GST_BASE_TRANSFORM_SRC_PAD(trans), query);
		if (gst_query_get_n_allocation_pools(query) > 0)
			return TRUE;
	}
	addGlNeeds(self, query);
	if (caps && gst_zcbuf_caps_has_dmabuf_feature(caps, 0) && !gst_zcbuf_backend_may_give_dmabuf(backend.c_str())) {
		GST_DEBUG_OBJECT(self, "memory:DMABuf input and no dma-buf backend: no pool");
		return TRUE;
	}
	if (!gst_zcbuf_propose_allocation_full(query, 1, backend.empty() ? nullptr : backend.c_str(),
					       constraintsOf(self).c_str()))
		GST_CAT_WARNING_OBJECT(CAT_PERFORMANCE, self,
				       "no zcbuf pool for upstream (backend '%s'): upstream writes "
				       "into memory of its own",
				       backend.c_str());
	return TRUE;
}

GstFlowReturn transformFrame(GstVideoFilter *filter, GstVideoFrame *in, GstVideoFrame *out)
{
	GstZcConvert *self = GST_ZC_CONVERT(filter);
	State *state = self->state;
	GST_OBJECT_LOCK(self);
	guint threads = state->threads ? state->threads : g_get_num_processors();
	GST_OBJECT_UNLOCK(self);
	std::string error;
	if (!state->runner.setThreads(MIN(threads, kMaxThreads), error)) {
		GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot start the conversion threads"),
				  ("%s (n-threads=%u)", error.c_str(), threads));
		return GST_FLOW_ERROR;
	}

	state->converter.convert(zcbuf::convert::imageOf(*in), zcbuf::convert::imageOf(*out), state->runner);
	state->frames++;
	return GST_FLOW_OK;
}

/* Whether every plane of mapped @frame lies inside the memory mapped for
 * it. gst_video_frame_map() takes a GstVideoMeta's offsets and strides as
 * they are: a hostile or broken meta would make the conversion read or
 * write past the memory. */
bool planesInsideMemory(const GstVideoFrame &frame, std::string &why)
{
	const GstVideoFormatInfo *finfo = frame.info.finfo;
	int width = GST_VIDEO_FRAME_WIDTH(&frame), height = GST_VIDEO_FRAME_HEIGHT(&frame);
	for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); p++) {
		/* Without a meta the whole buffer is map[0] (and its size is
		 * checked); with one, each plane has the map of its memory. */
		const GstMapInfo &map = frame.meta ? frame.map[p] : frame.map[0];
		gint comps[GST_VIDEO_MAX_COMPONENTS];
		gst_video_format_info_component(finfo, p, comps);
		gsize rowBytes = 0;
		int rows = 0;
		for (int i = 0; i < GST_VIDEO_MAX_COMPONENTS && comps[i] >= 0; i++) {
			int c = comps[i];
			gsize w = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(finfo, c, width);
			gsize last = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, c) +
				     (w - 1) * GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, c) + 1;
			rowBytes = MAX(rowBytes, last);
			rows = MAX(rows, GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(finfo, c, height));
		}
		gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
		const guint8 *data = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
		if (stride <= 0 || static_cast<gsize>(stride) < rowBytes || data < map.data ||
		    data > map.data + map.size) {
			why = "plane " + std::to_string(p) + " has stride " + std::to_string(stride) +
			      " for rows of " + std::to_string(rowBytes) + " bytes";
			return false;
		}
		gsize start = static_cast<gsize>(data - map.data);
		gsize extent = start + static_cast<gsize>(stride) * (rows - 1) + rowBytes;
		if (extent > map.size) {
			why = "plane " + std::to_string(p) + " ends at byte " + std::to_string(extent) +
			      " of a memory of " + std::to_string(map.size) + " bytes";
			return false;
		}
	}
	return true;
}

/* The frame through the GPU; nullopt when auto leaves it to the CPU. */
std::optional<GstFlowReturn> transformGl(GstZcConvert *self, GstBuffer *inbuf, GstBuffer *outbuf)
{
	State &state = *self->state;
	std::string node = state.gl->context()->node();
	if (state.engine == Engine::GlIfImports) {
		auto imported = state.gl->importInput(inbuf);
		state.glImports = state.gl->imports();
		if (!imported) {
			state.engine = Engine::Cpu;
			GST_CAT_INFO_OBJECT(CAT_PERFORMANCE, self, "auto converts on the CPU: %s",
					    imported.error().message().c_str());
			setMethodInUse(self, "cpu: the input does not import on " + node + ": " +
						     imported.error().message());
			return std::nullopt;
		}
		state.engine = Engine::Gl;
		setMethodInUse(self, "gl: auto, the input imports on " + node + " (" +
					     state.gl->context()->driver() + ", " +
					     state.gl->context()->renderer() + ")");
	}
	auto converted = state.gl->convert(inbuf, outbuf);
	state.glImports = state.gl->imports();
	state.glHits = state.gl->hits();
	if (converted) {
		state.frames++;
		return GST_FLOW_OK;
	}
	GST_OBJECT_LOCK(self);
	bool gl = self->method == GST_ZCCONVERT_METHOD_GL;
	GST_OBJECT_UNLOCK(self);
	if (!gl && converted.error().code() != EIO) {
		/* A buffer that does not import (memory of another device
		 * mid-stream): this frame on the CPU, said in the log. */
		GST_CAT_WARNING_OBJECT(CAT_PERFORMANCE, self,
				       "auto converts a frame on the CPU: %s",
				       converted.error().message().c_str());
		return std::nullopt;
	}
	GST_ELEMENT_ERROR(self, STREAM, FAILED, ("The GPU could not convert the frame"),
			  ("%s", converted.error().message().c_str()));
	return GST_FLOW_ERROR;
}

/* GstVideoFilter's transform maps the frames and calls transformFrame();
 * this one does the same, but says what is wrong with a buffer that is no
 * frame instead of warning and pushing an unwritten output buffer. */
GstFlowReturn transform(GstBaseTransform *trans, GstBuffer *inbuf, GstBuffer *outbuf)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	GstVideoFilter *filter = GST_VIDEO_FILTER(trans);

	if (gst_buffer_get_size(inbuf) == 0) {
		/* Not a frame (a gap): say so downstream, when it has a time,
		 * and drop it. */
		GST_DEBUG_OBJECT(self, "empty buffer at %" GST_TIME_FORMAT ": a gap",
				 GST_TIME_ARGS(GST_BUFFER_PTS(inbuf)));
		if (GST_BUFFER_PTS_IS_VALID(inbuf))
			gst_pad_push_event(GST_BASE_TRANSFORM_SRC_PAD(trans),
					   gst_event_new_gap(GST_BUFFER_PTS(inbuf),
							     GST_BUFFER_DURATION(inbuf)));
		return GST_BASE_TRANSFORM_FLOW_DROPPED;
	}
	if (outbuf == inbuf) {
		/* prepareOutputBuffer() forwarded dma-buf memory as it is. */
		return GST_FLOW_OK;
	}
	if (self->state->engine != Engine::Cpu) {
		std::optional<GstFlowReturn> done = transformGl(self, inbuf, outbuf);
		if (done)
			return *done;
	}

	GstVideoFrame in, out;
	if (!gst_video_frame_map(&in, &filter->in_info, inbuf, GST_MAP_READ)) {
		const GstVideoInfo *info = &filter->in_info;
		gsize size = gst_buffer_get_size(inbuf);
		const char *format = gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(info));
		if (size < GST_VIDEO_INFO_SIZE(info))
			GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Invalid video frame"),
					  ("a buffer of %" G_GSIZE_FORMAT " bytes is too small for a "
					   "%dx%d %s frame (%" G_GSIZE_FORMAT " bytes)",
					   size, GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info),
					   format, GST_VIDEO_INFO_SIZE(info)));
		else
			GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot read the input frame"),
					  ("mapping a buffer of %" G_GSIZE_FORMAT " bytes as a %dx%d %s "
					   "frame for reading failed (its memory or video meta cannot be "
					   "mapped)",
					   size, GST_VIDEO_INFO_WIDTH(info), GST_VIDEO_INFO_HEIGHT(info),
					   format));
		return GST_FLOW_ERROR;
	}
	std::string why;
	if (!planesInsideMemory(in, why)) {
		gst_video_frame_unmap(&in);
		GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Invalid video frame"),
				  ("the input's video meta does not fit its memory: %s", why.c_str()));
		return GST_FLOW_ERROR;
	}
	if (!gst_video_frame_map(&out, &filter->out_info, outbuf, GST_MAP_WRITE)) {
		gst_video_frame_unmap(&in);
		GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Cannot write the output frame"),
				  ("mapping %" GST_PTR_FORMAT " for writing failed", outbuf));
		return GST_FLOW_ERROR;
	}

	if (!planesInsideMemory(out, why)) {
		gst_video_frame_unmap(&out);
		gst_video_frame_unmap(&in);
		GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Cannot write the output frame"),
				  ("the output buffer's video meta does not fit its memory: %s",
				   why.c_str()));
		return GST_FLOW_ERROR;
	}

	GstFlowReturn ret = GST_FLOW_OK;
	if (self->state->ensureDmabuf) {
		gsize bytes = GST_VIDEO_INFO_SIZE(&filter->in_info);
		GST_CAT_INFO_OBJECT(CAT_PERFORMANCE, self,
				    "copying a frame that is not in dma-buf memory into memory:DMABuf "
				    "output (%" G_GSIZE_FORMAT " bytes)",
				    bytes);
		if (gst_video_frame_copy(&out, &in))
			gst_zcbuf_record_copy(GST_OBJECT(self), bytes,
					      "input not in dma-buf memory, output memory:DMABuf");
		else
			ret = GST_FLOW_ERROR;
		if (ret == GST_FLOW_ERROR)
			GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot copy the frame"),
					  ("gst_video_frame_copy failed"));
	} else {
		/* transformFrame() posts its own errors. */
		ret = transformFrame(filter, &in, &out);
	}
	gst_video_frame_unmap(&out);
	gst_video_frame_unmap(&in);
	return ret;
}

/* For memory:DMABuf output of unconverted frames: frames already in dma-buf
 * memory go on as they are (outbuf == inbuf); others get a buffer of the
 * output pool and are copied in transform(). */
GstFlowReturn prepareOutputBuffer(GstBaseTransform *trans, GstBuffer *inbuf, GstBuffer **outbuf)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	if (self->state->ensureDmabuf && gst_buffer_n_memory(inbuf) > 0) {
		bool allDmabuf = true;
		for (guint i = 0; i < gst_buffer_n_memory(inbuf); i++)
			allDmabuf = allDmabuf && gst_is_dmabuf_memory(gst_buffer_peek_memory(inbuf, i));
		if (allDmabuf) {
			*outbuf = inbuf;
			return GST_FLOW_OK;
		}
	}
	return GST_BASE_TRANSFORM_CLASS(gst_zc_convert_parent_class)
		->prepare_output_buffer(trans, inbuf, outbuf);
}

void setProperty(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
	GstZcConvert *self = GST_ZC_CONVERT(object);
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_BACKEND: {
		const gchar *spec = g_value_get_string(value);
		self->state->backend = spec ? spec : "";
		break;
	}
	case PROP_N_THREADS:
		self->state->threads = g_value_get_uint(value);
		break;
	case PROP_METHOD:
		self->method = static_cast<GstZcConvertMethod>(g_value_get_enum(value));
		break;
	case PROP_CONSTRAINTS: {
		const gchar *text = g_value_get_string(value);
		self->state->constraints = text ? text : "";
		break;
	}
	case PROP_DEVICE: {
		const gchar *node = g_value_get_string(value);
		self->state->device = node ? node : "";
		break;
	}
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

void getProperty(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	GstZcConvert *self = GST_ZC_CONVERT(object);
	if (id == PROP_CHOSEN_BACKEND) {
		g_value_take_string(value, gst_zcbuf_element_get_chosen_backend(GST_ELEMENT(self)));
		return;
	}
	GST_OBJECT_LOCK(self);
	switch (id) {
	case PROP_CONSTRAINTS:
		g_value_set_string(value, self->state->constraints.c_str());
		break;
	case PROP_BACKEND:
		g_value_set_string(value, self->state->backend.c_str());
		break;
	case PROP_N_THREADS:
		g_value_set_uint(value, self->state->threads);
		break;
	case PROP_METHOD:
		g_value_set_enum(value, self->method);
		break;
	case PROP_DEVICE:
		g_value_set_string(value, self->state->device.c_str());
		break;
	case PROP_METHOD_IN_USE:
		g_value_set_string(value, self->state->methodInUse.c_str());
		break;
	case PROP_GL_IMPORTS:
		g_value_set_uint64(value, self->state->glImports);
		break;
	case PROP_GL_CACHE_HITS:
		g_value_set_uint64(value, self->state->glHits);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
	GST_OBJECT_UNLOCK(self);
}

gboolean start(GstBaseTransform *trans)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	self->state->glImports = 0;
	self->state->glHits = 0;
	return TRUE;
}

gboolean stop(GstBaseTransform *trans)
{
	GstZcConvert *self = GST_ZC_CONVERT(trans);
	GST_DEBUG_OBJECT(self, "stopping after %" G_GUINT64_FORMAT " converted frames",
			 self->state->frames);
	if (self->state->gl)
		GST_INFO_OBJECT(self,
				"GL: %" G_GUINT64_FORMAT " imports, %" G_GUINT64_FORMAT
				" cache hits; %" G_GUINT64_FORMAT " EGLImages alive in the process "
				"(imports cached on memories not yet freed)",
				self->state->glImports.load(), self->state->glHits.load(),
				zcbuf::gl::ImageCache::liveImages());
	/* The worker threads go with the element (a restart keeps them);
	 * the conversion plan with the next caps. */
	self->state->converter = zcbuf::convert::Converter();
	self->state->frames = 0;
	/* The GL objects go with the last memory that cached an import. */
	self->state->engine = Engine::Cpu;
	self->state->gl.reset();
	self->state->glContext.reset();
	return TRUE;
}

/*
 * No C++ exception crosses into GStreamer's C frames: every vfunc runs
 * behind guarded<>, which turns one (memory that cannot be had, a thread
 * that cannot start) into an element error and the vfunc's failure value.
 * The engine reports what it can foresee with return values; this is the
 * net under what it cannot.
 */
template <auto Vfunc>
constexpr auto guarded = zcbuf::plugin::guardedVfunc<Vfunc, &gst_zc_convert_debug>;

} /* namespace */

static void gst_zc_convert_init(GstZcConvert *self)
{
	self->state = new State();
	self->method = GST_ZCCONVERT_METHOD_AUTO;
	/* Caps that match need no work at all: the same buffer goes on. */
	gst_base_transform_set_prefer_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}

static void gst_zc_convert_finalize(GObject *object)
{
	delete std::exchange(GST_ZC_CONVERT(object)->state, nullptr);
	G_OBJECT_CLASS(gst_zc_convert_parent_class)->finalize(object);
}

static void gst_zc_convert_class_init(GstZcConvertClass *klass)
{
	GObjectClass *objectClass = G_OBJECT_CLASS(klass);
	GstElementClass *elementClass = GST_ELEMENT_CLASS(klass);
	GstBaseTransformClass *transClass = GST_BASE_TRANSFORM_CLASS(klass);
	GstVideoFilterClass *filterClass = GST_VIDEO_FILTER_CLASS(klass);

	GST_DEBUG_CATEGORY_INIT(gst_zc_convert_debug, "zcconvert", 0,
				"zcbuf colour converter and scaler");
	GST_DEBUG_CATEGORY_GET(CAT_PERFORMANCE, "GST_PERFORMANCE");

	objectClass->set_property = guarded<setProperty>;
	objectClass->get_property = guarded<getProperty>;
	objectClass->finalize = gst_zc_convert_finalize;

	g_object_class_install_property(
		objectClass, PROP_BACKEND,
		g_param_spec_string(
			"backend", "Backend",
			"zcbuf allocation backend of the pool zcconvert creates (when downstream's "
			"is not usable) and proposes upstream: module, dma-heap[:HEAP], udmabuf, "
			"drm[:/dev/dri/cardN], memfd; empty for ZCBUF_BACKEND or the best "
			"available",
			"",
			static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
						 GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(objectClass, PROP_CONSTRAINTS,
					gst_zcbuf_param_spec_constraints());
	g_object_class_install_property(objectClass, PROP_CHOSEN_BACKEND,
					gst_zcbuf_param_spec_chosen_backend());
	g_object_class_install_property(
		objectClass, PROP_N_THREADS,
		g_param_spec_uint("n-threads", "Threads",
				  "Threads converting each frame in bands of rows (scaling: one "
				  "plane per thread); 0 for one per CPU core. The output does not "
				  "depend on it",
				  0, kMaxThreads, kDefaultThreads,
				  static_cast<GParamFlags>(G_PARAM_READWRITE |
							   G_PARAM_STATIC_STRINGS |
							   GST_PARAM_MUTABLE_PLAYING)));
	g_object_class_install_property(
		objectClass, PROP_METHOD,
		g_param_spec_enum("method", "Method",
				  "Where the conversion runs: cpu, gl (GLES on the device "
				  "property's DRM card, or the first card with a GPU; an error "
				  "at negotiation when it cannot), or auto (gl when the device "
				  "property is set, gl converts the pair and the first frame's "
				  "memory imports; else cpu). See method-in-use",
				  GST_TYPE_ZC_CONVERT_METHOD, GST_ZCCONVERT_METHOD_AUTO,
				  static_cast<GParamFlags>(G_PARAM_READWRITE |
							   G_PARAM_STATIC_STRINGS |
							   GST_PARAM_MUTABLE_READY)));

	g_object_class_install_property(
		objectClass, PROP_DEVICE,
		g_param_spec_string(
			"device", "Device",
			"DRM card node the GL method renders on (/dev/dri/card0); empty: for "
			"method=gl the first card that is not vgem and gives a GLES context, "
			"for method=auto no GPU at all",
			"",
			static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
						 GST_PARAM_MUTABLE_READY)));
	g_object_class_install_property(
		objectClass, PROP_METHOD_IN_USE,
		g_param_spec_string("method-in-use", "Method in use",
				    "The method converting the current caps and why "
				    "(\"gl: method=gl on /dev/dri/card0 (virtio_gpu, llvmpipe)\", "
				    "\"cpu: the input does not import ...\"); empty before caps",
				    "",
				    static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
	g_object_class_install_property(
		objectClass, PROP_GL_IMPORTS,
		g_param_spec_uint64("gl-imports", "GL imports",
				    "dma-buf planes imported as EGLImages since the last start: "
				    "each pool buffer's planes once, then cache hits",
				    0, G_MAXUINT64, 0,
				    static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
	g_object_class_install_property(
		objectClass, PROP_GL_CACHE_HITS,
		g_param_spec_uint64("gl-cache-hits", "GL cache hits",
				    "Planes found already imported on their memory since the last start",
				    0, G_MAXUINT64, 0,
				    static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

	gst_element_class_set_static_metadata(
		elementClass, "Zero-copy video converter and scaler",
		"Filter/Converter/Video/Scaler/Colorspace",
		"Converts and scales NV12, I420, Y42B, Y444, YUY2, UYVY, BGRx, RGBx, BGRA, RGBA "
		"and GRAY8 straight into zcbuf memory, pixels within 2 levels of videoconvert's",
		"The zcbuf authors");
	GstCaps *caps = templateCaps();
	gst_element_class_add_pad_template(
		elementClass, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
	gst_element_class_add_pad_template(
		elementClass, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
	gst_caps_unref(caps);

	transClass->passthrough_on_same_caps = TRUE;
	transClass->transform_caps = guarded<transformCaps>;
	transClass->fixate_caps = guarded<fixateCaps>;
	transClass->propose_allocation = guarded<proposeAllocation>;
	transClass->decide_allocation = guarded<decideAllocation>;
	transClass->transform = guarded<transform>;
	transClass->prepare_output_buffer = guarded<prepareOutputBuffer>;
	transClass->start = guarded<start>;
	transClass->stop = guarded<stop>;
	filterClass->set_info = guarded<setInfo>;
	/* Also tells GstVideoFilter that zcconvert is not in-place. */
	filterClass->transform_frame = guarded<transformFrame>;

	gst_type_mark_as_plugin_api(GST_TYPE_ZC_CONVERT_METHOD, static_cast<GstPluginAPIFlags>(0));
}
