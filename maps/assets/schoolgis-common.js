/* What the service's map pages share: languages, DOM building, API calls, the panel layout. */
(function () {
  "use strict";

  /* Lower case without diacritics: "Cần Thạnh" and "can thanh" fold alike. */
  function fold(text) {
    return String(text)
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /* The page's texts in Vietnamese and English; "vi" unless ?lang= or a saved choice says. */
  function Language(texts) {
    this.texts = texts;
    this.listeners = [];
    var asked = new URLSearchParams(window.location.search).get("lang");
    var saved = null;
    try { saved = window.localStorage.getItem("schoolgis.lang"); } catch (e) { /* private mode */ }
    this.lang = texts[asked] ? asked : texts[saved] ? saved : "vi";
  }

  Language.prototype.t = function (key, values) {
    var text = this.texts[this.lang][key];
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  };

  Language.prototype.number = function (value) {
    return Math.round(value).toLocaleString(this.lang === "vi" ? "vi-VN" : "en-GB");
  };

  /* Translate every [data-i18n*] node, then let the page redraw what it built. */
  Language.prototype.apply = function () {
    var self = this;
    document.documentElement.lang = this.lang;
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = self.t(node.getAttribute("data-i18n"));
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
      node.setAttribute("placeholder", self.t(node.getAttribute("data-i18n-placeholder")));
    });
    document.querySelectorAll("[data-i18n-aria]").forEach(function (node) {
      node.setAttribute("aria-label", self.t(node.getAttribute("data-i18n-aria")));
    });
    this.listeners.forEach(function (listener) { listener(); });
  };

  Language.prototype.toggleWith = function (button) {
    var self = this;
    button.addEventListener("click", function () {
      self.lang = self.lang === "vi" ? "en" : "vi";
      try { window.localStorage.setItem("schoolgis.lang", self.lang); } catch (e) { /* private mode */ }
      self.apply();
    });
  };

  /* GET JSON from the API; a problem+json answer becomes an Error with its detail. */
  function getJSON(url, headers) {
    var sent = Object.assign({ Accept: "application/json" }, headers || {});
    return fetch(url, { headers: sent }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          throw new Error((body && (body.detail || body.title)) || "HTTP " + response.status);
        }
        return body;
      }, function () {
        throw new Error("HTTP " + response.status);
      });
    });
  }

  /* Padding that keeps what is fitted beside the panel (wide screens) or above it (phones). */
  function panelPadding(map, panel) {
    var size = map.getSize();
    var wide = size.x > 600;
    /* on a phone the panel covers the bottom: the sources' credit moves to the top */
    map.attributionControl.setPosition(wide ? "bottomright" : "topright");
    var options = wide
      ? { paddingTopLeft: [panel.offsetWidth + 70, 10], paddingBottomRight: [10, 10] }
      : { paddingTopLeft: [10, 40], paddingBottomRight: [10, Math.min(panel.offsetHeight, size.y / 2) + 10] };
    options.animate = false;
    return options;
  }

  /* The map without tiles has no zoom range; credit the sources; keep the panel's clicks. */
  function prepareMap(map, data, panel) {
    map.setMinZoom(11);
    map.setMaxZoom(19);
    data.attribution.forEach(function (text) {
      map.attributionControl.addAttribution(text);
    });
    L.DomEvent.disableClickPropagation(panel);
    L.DomEvent.disableScrollPropagation(panel);
    map.fitBounds(data.bounds, panelPadding(map, panel));
  }

  window.SchoolGIS = {
    fold: fold,
    el: el,
    Language: Language,
    getJSON: getJSON,
    panelPadding: panelPadding,
    prepareMap: prepareMap
  };
})();
