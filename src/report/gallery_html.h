// Private: one successful attack as an HTML figure (from a gallery.json item).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace muroan::report {

// <figure class="gallery-item">: the original and decoupled images side by
// side (decoupled regions outlined in red), the words with the deleted ones
// struck through (<del>), the decision before and after with confidences.
// Tolerates missing fields (shows what is there); escapes every string.
std::string render_gallery_item(const nlohmann::ordered_json& item, const std::string& method);

}  // namespace muroan::report
