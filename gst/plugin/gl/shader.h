/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GLES 2 program of one format pair: a full-frame quad whose texture
 * coordinates span the input (so the sampler scales, bilinearly), a
 * fragment shader that gathers Y,U,V or R,G,B from the input's planes,
 * applies the colour matrix and writes the output's byte order; chroma is
 * sampled where the caps' chroma-site puts it.
 */
#pragma once

#include <gst/video/video.h>

#include "gl/context.h"
#include "convert/matrix.h"

namespace zcbuf::gl {

/* Compiles and links the program converting @in to @out with @matrix
 * (convert::computeMatrix() of the pair), its samplers bound to texture
 * units 0..2 and its uniforms set. Call with the context current; an
 * Error carries the compiler's log. */
Result<GLuint> buildProgram(const GstVideoInfo &in, GstVideoFormat out,
			    const convert::ColorMatrix &matrix);

/* The attribute the quad's corners go to. */
constexpr const char *kPositionAttribute = "position";

} /* namespace zcbuf::gl */
