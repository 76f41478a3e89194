/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gl/shader.h"

#include <string>

namespace zcbuf::gl {

namespace {

/* Output row r of the framebuffer is memory row r of the dma-buf, as input
 * row r of a texture is: no flip. */
const char *kVertexShader = R"(
attribute vec2 position;
varying vec2 coord;
void main()
{
	coord = position * 0.5 + 0.5;
	gl_Position = vec4(position, 0.0, 1.0);
}
)";

/* FETCH gives the three input components in the matrix's column order
 * (Y,U,V or R,G,B), each 0..1; ALPHA the input's alpha. Packed RGB is
 * imported as ABGR8888, whose .rgba are the memory's bytes in order. */
std::string fetchOf(GstVideoFormat format)
{
	switch (format) {
	case GST_VIDEO_FORMAT_NV12:
		return "#define FETCH vec3(texture2D(plane0, coord).r, "
		       "texture2D(plane1, coord + chromaOffset).rg)\n#define ALPHA 1.0\n";
	case GST_VIDEO_FORMAT_I420:
	case GST_VIDEO_FORMAT_Y42B:
	case GST_VIDEO_FORMAT_Y444:
		return "#define FETCH vec3(texture2D(plane0, coord).r, texture2D(plane1, coord + "
		       "chromaOffset).r, texture2D(plane2, coord + chromaOffset).r)\n"
		       "#define ALPHA 1.0\n";
	case GST_VIDEO_FORMAT_RGBA:
		return "#define FETCH texture2D(plane0, coord).rgb\n"
		       "#define ALPHA texture2D(plane0, coord).a\n";
	case GST_VIDEO_FORMAT_RGBx:
		return "#define FETCH texture2D(plane0, coord).rgb\n#define ALPHA 1.0\n";
	case GST_VIDEO_FORMAT_BGRA:
		return "#define FETCH texture2D(plane0, coord).bgr\n"
		       "#define ALPHA texture2D(plane0, coord).a\n";
	case GST_VIDEO_FORMAT_BGRx:
		return "#define FETCH texture2D(plane0, coord).bgr\n#define ALPHA 1.0\n";
	default:
		return {};
	}
}

/* STORE(rgb, a) in the output's byte order (the output is drawn as
 * ABGR8888: .rgba are its bytes); x formats get 255, as the CPU path
 * writes. */
std::string storeOf(GstVideoFormat format)
{
	switch (format) {
	case GST_VIDEO_FORMAT_RGBA:
		return "#define STORE(c, a) vec4(c, a)\n";
	case GST_VIDEO_FORMAT_RGBx:
		return "#define STORE(c, a) vec4(c, 1.0)\n";
	case GST_VIDEO_FORMAT_BGRA:
		return "#define STORE(c, a) vec4(c.bgr, a)\n";
	case GST_VIDEO_FORMAT_BGRx:
		return "#define STORE(c, a) vec4(c.bgr, 1.0)\n";
	default:
		return {};
	}
}

const char *kFragmentShader = R"(
uniform sampler2D plane0;
uniform sampler2D plane1;
uniform sampler2D plane2;
uniform mat3 matrix;
uniform vec3 offset;
uniform vec2 chromaOffset;
varying vec2 coord;
void main()
{
	vec3 c = clamp(matrix * FETCH + offset, 0.0, 1.0);
	gl_FragColor = STORE(c, ALPHA);
}
)";

class Shader
{
public:
	explicit Shader(GLenum type) : id_(glCreateShader(type)) {}
	~Shader() { glDeleteShader(id_); }
	Shader(const Shader &) = delete;
	Shader &operator=(const Shader &) = delete;
	GLuint id() const { return id_; }

	Result<void> compile(const std::string &source)
	{
		const char *text = source.c_str();
		glShaderSource(id_, 1, &text, nullptr);
		glCompileShader(id_);
		GLint ok = GL_FALSE;
		glGetShaderiv(id_, GL_COMPILE_STATUS, &ok);
		if (ok)
			return {};
		char log[1024] = "";
		glGetShaderInfoLog(id_, sizeof(log), nullptr, log);
		return Error(EINVAL, std::string("the GLES shader does not compile: ") + log);
	}

private:
	GLuint id_;
};

} /* namespace */

Result<GLuint> buildProgram(const GstVideoInfo &inInfo, GstVideoFormat out,
			    const convert::ColorMatrix &matrix)
{
	GstVideoFormat in = GST_VIDEO_INFO_FORMAT(&inInfo);
	std::string fetch = fetchOf(in), store = storeOf(out);
	if (fetch.empty() || store.empty())
		return Error(ENOTSUP, std::string("no shader for ") + gst_video_format_to_string(in) +
					      " to " + gst_video_format_to_string(out));
	Shader vertex(GL_VERTEX_SHADER), fragment(GL_FRAGMENT_SHADER);
	if (Result<void> r = vertex.compile(kVertexShader); !r)
		return r.error();
	std::string source = "precision highp float;\n" + fetch + store + kFragmentShader;
	if (Result<void> r = fragment.compile(source); !r)
		return r.error();

	GLuint program = glCreateProgram();
	glAttachShader(program, vertex.id());
	glAttachShader(program, fragment.id());
	glBindAttribLocation(program, 0, kPositionAttribute);
	glLinkProgram(program);
	GLint linked = GL_FALSE;
	glGetProgramiv(program, GL_LINK_STATUS, &linked);
	if (!linked) {
		char log[1024] = "";
		glGetProgramInfoLog(program, sizeof(log), nullptr, log);
		glDeleteProgram(program);
		return Error(EINVAL, std::string("the GLES program does not link: ") + log);
	}

	/* The CPU path's 8.8 fixed-point coefficients on 0..255 values,
	 * for components in 0..1: out = C/256 * in + C3/(256*255). No
	 * matrix (RGB to RGB) is the identity. */
	GLfloat m[9], o[3];
	for (int row = 0; row < 3; row++) {
		for (int column = 0; column < 3; column++) {
			float c = matrix.kind == convert::MatrixKind::None
					  ? (row == column ? 1.0f : 0.0f)
					  : matrix.coefficients[row][column] / 256.0f;
			m[column * 3 + row] = c; /* column-major */
		}
		o[row] = matrix.kind == convert::MatrixKind::None
				 ? 0.0f
				 : matrix.coefficients[row][3] / (256.0f * 255.0f);
	}
	glUseProgram(program);
	glUniformMatrix3fv(glGetUniformLocation(program, "matrix"), 1, GL_FALSE, m);
	glUniform3fv(glGetUniformLocation(program, "offset"), 1, o);
	/* The sampler takes a subsampled chroma texel to lie at the centre
	 * of the luma pixels it covers; a cosited one lies on the first:
	 * half a luma pixel further into the texture. */
	const GstVideoFormatInfo *finfo = inInfo.finfo;
	GLfloat shift[2] = { 0.f, 0.f };
	if (GST_VIDEO_FORMAT_INFO_W_SUB(finfo, 1) && (inInfo.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED))
		shift[0] = 0.5f / GST_VIDEO_INFO_WIDTH(&inInfo);
	if (GST_VIDEO_FORMAT_INFO_H_SUB(finfo, 1) && (inInfo.chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED))
		shift[1] = 0.5f / GST_VIDEO_INFO_HEIGHT(&inInfo);
	if (GLint location = glGetUniformLocation(program, "chromaOffset"); location >= 0)
		glUniform2fv(location, 1, shift);
	for (int unit = 0; unit < 3; unit++) {
		std::string name = "plane" + std::to_string(unit);
		GLint location = glGetUniformLocation(program, name.c_str());
		if (location >= 0)
			glUniform1i(location, unit);
	}
	if (GLenum e = glGetError(); e != GL_NO_ERROR) {
		glDeleteProgram(program);
		return Error(EINVAL, "setting the program's uniforms failed (GL error " +
					     std::to_string(e) + ")");
	}
	return program;
}

} /* namespace zcbuf::gl */
