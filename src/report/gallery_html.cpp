#include "gallery_html.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "html_text.h"

namespace muroan::report {
namespace {

// Displayed side of an image, in CSS pixels (small images are scaled up, pixelated).
constexpr double kImageSide = 168;

std::string str(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

double number(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

// Only data URIs of PNG images are embedded: the page must not reach anything.
bool is_png_data_uri(const std::string& s) { return s.rfind("data:image/png;base64,", 0) == 0; }

std::string image_svg(const nlohmann::ordered_json& img, const char* which, bool outline, const std::string& label) {
  const double w = std::max(1.0, number(img, "width")), h = std::max(1.0, number(img, "height"));
  const std::string uri = str(img, which);
  const double scale = kImageSide / std::max(w, h);
  std::ostringstream s;
  s << "<div class=\"shot\"><svg role=\"img\" viewBox=\"0 0 " << w << ' ' << h << "\" width=\"" << w * scale
    << "\" height=\"" << h * scale << "\"><title>" << escape_html(label) << "</title>";
  if (is_png_data_uri(uri))
    s << "<image class=\"px\" href=\"" << escape_html(uri) << "\" x=\"0\" y=\"0\" width=\"" << w << "\" height=\"" << h
      << "\"/>";
  if (outline) {
    for (const auto& r : img.value("regions", nlohmann::ordered_json::array())) {
      if (!r.is_array() || r.size() != 4 || !r[0].is_number() || !r[1].is_number() || !r[2].is_number() ||
          !r[3].is_number())
        continue;
      s << "<rect class=\"cut\" x=\"" << r[0].get<double>() << "\" y=\"" << r[1].get<double>() << "\" width=\""
        << r[2].get<double>() << "\" height=\"" << r[3].get<double>() << "\"/>";
    }
  }
  s << "</svg><span>" << escape_html(label) << "</span></div>";
  return s.str();
}

// A feature value as people write it: 3, 0.25, 1.2e+04 (4 significant digits).
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string decision_html(const nlohmann::ordered_json& d) {
  if (!d.is_object()) return "?";
  return "<b>" + escape_html(str(d, "name")) + "</b> (" + format_percent(number(d, "confidence")) + ")";
}

}  // namespace

std::string render_gallery_item(const nlohmann::ordered_json& item, const std::string& method) {
  std::ostringstream s;
  s << "<figure class=\"gallery-item\">";
  const std::string rate = format_rate(number(item, "decoupling_rate"));
  for (const auto& img : item.value("images", nlohmann::ordered_json::array())) {
    if (!img.is_object()) continue;
    const std::string kind = str(img, "kind");
    const std::string name = str(img, "modality") + (kind.empty() ? "" : " (" + kind + ")");
    s << "<div class=\"pair\">" << image_svg(img, "original", false, name + ": original")
      << image_svg(img, "decoupled", true, name + ": decoupled") << "</div>";
  }
  for (const auto& text : item.value("texts", nlohmann::ordered_json::array())) {
    if (!text.is_object()) continue;
    s << "<p class=\"words\" title=\"" << escape_html(str(text, "modality")) << "\">";
    bool first = true;
    for (const auto& w : text.value("words", nlohmann::ordered_json::array())) {
      if (!w.is_object()) continue;
      s << (first ? "" : " ");
      first = false;
      const std::string word = escape_html(str(w, "text"));
      if (w.value("deleted", false))
        s << "<del>" << word << "</del>";
      else
        s << word;
    }
    s << "</p>";
  }
  for (const auto& table : item.value("tables", nlohmann::ordered_json::array())) {
    if (!table.is_object()) continue;
    // name value, decoupled ones struck through with the fill they took.
    s << "<p class=\"features\" title=\"" << escape_html(str(table, "modality")) << "\">";
    bool first = true;
    for (const auto& f : table.value("features", nlohmann::ordered_json::array())) {
      if (!f.is_object()) continue;
      s << (first ? "" : " &middot; ");
      first = false;
      const std::string shown = escape_html(str(f, "name")) + " " + short_number(number(f, "value"));
      if (f.value("decoupled", false))
        s << "<del>" << shown << "</del> &rarr; " << short_number(number(f, "fill"));
      else
        s << shown;
    }
    s << "</p>";
  }
  s << "<figcaption><p class=\"decision\">" << decision_html(item.value("clean", nlohmann::ordered_json()))
    << " <span class=\"arrow\">&rarr;</span> " << decision_html(item.value("adversarial", nlohmann::ordered_json()))
    << "</p><p class=\"meta\">" << escape_html(method) << " &middot; decoupled " << rate << " ("
    << static_cast<long long>(number(item, "decoupled_points")) << " of "
    << static_cast<long long>(number(item, "total_points")) << " points) &middot; sample "
    << escape_html(str(item, "id")) << ", label "
    << escape_html(str(item.value("label", nlohmann::ordered_json::object()), "name"));
  const auto cls = item.value("success_class", nlohmann::ordered_json());
  if (cls.is_string())
    s << " &middot; <b>" << escape_html(cls.get<std::string>()) << "</b>"
      << (item.contains("truth_reason") ? ": " + escape_html(str(item, "truth_reason")) : std::string());
  s << "</p></figcaption></figure>";
  return s.str();
}

}  // namespace muroan::report
