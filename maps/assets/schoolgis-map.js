/* The public map's panel: schools, search, "where can my child go?", languages.
 * Vietnamese first, English on the toggle. Numbers shown come from the eligibility API.
 */
(function () {
  "use strict";

  var TEXT = {
    vi: {
      title: "Trường học",
      lang_button: "English",
      lang_aria: "Switch to English",
      fold_aria: "Thu gọn hoặc mở bảng",
      search_label: "Tìm trường, phường hoặc đường",
      search_placeholder: "ví dụ: Lê Quý Đôn",
      home_label: "Nhà của bạn: bấm vào bản đồ, hoặc nhập vĩ độ, kinh độ",
      home_submit: "Tìm trường",
      layer_wards: "Phường, xã",
      layer_zones: "Vùng tuyển sinh lớp 1",
      layer_schools: "Trường học",
      layer_tiles: "Nền trực tuyến",
      kind_school: "trường",
      kind_ward: "phường, xã",
      kind_street: "đường",
      found: "{n} kết quả",
      none_found: "Không tìm thấy",
      loading: "Đang tìm trường cho địa điểm này…",
      zone_school: "Trường tuyến lớp 1 của bạn",
      walk: "Đi bộ",
      motorbike: "Xe máy",
      metres_minutes: "{m} m · {min} phút",
      no_route: "không có đường đi",
      free_seats: "Chỗ lớp 1 còn trống: {n}",
      free_seats_assumed: "Chỗ lớp 1 còn trống: {n} (ước tính theo số lớp giả định)",
      seats_unknown: "Chưa rõ số chỗ lớp 1",
      others: "Các trường khác trong tầm (theo đường đi bộ)",
      other_line: "{name}: {m} m, {free}",
      free_short: "còn {n} chỗ",
      version: "Theo phương án vùng tuyển sinh “{name}”",
      no_zone: "Địa điểm này không thuộc vùng tuyển sinh nào.",
      no_api: "Khoảng cách đường đi có trên trang của dịch vụ.",
      bad_home: "Hãy nhập vĩ độ, kinh độ, ví dụ 10.7790, 106.6860",
      level_mam_non: "Mầm non",
      level_tieu_hoc: "Tiểu học",
      level_thcs: "Trung học cơ sở",
      level_thpt: "Trung học phổ thông",
      level_lien_cap: "Liên cấp",
      level_other: "Chưa rõ cấp học",
      address: "Địa chỉ: {v}",
      phone: "Điện thoại: {v}",
      email: "Thư điện tử: {v}",
      website: "Trang web: {v}",
      seats: "Chỗ lớp 1: {n}",
      home: "Nhà của bạn",
      error: "Không trả lời được: {v}"
    },
    en: {
      title: "Schools of",
      lang_button: "Tiếng Việt",
      lang_aria: "Chuyển sang tiếng Việt",
      fold_aria: "Fold or open the panel",
      search_label: "Find a school, ward or street",
      search_placeholder: "e.g. Le Quy Don",
      home_label: "Your home: click on the map, or type latitude, longitude",
      home_submit: "Find schools",
      layer_wards: "Wards and communes",
      layer_zones: "First-grade admission zones",
      layer_schools: "Schools",
      layer_tiles: "Online base map",
      kind_school: "school",
      kind_ward: "ward",
      kind_street: "street",
      found: "{n} results",
      none_found: "Nothing found",
      loading: "Finding the schools for this place…",
      zone_school: "Your first-grade zone school",
      walk: "Walking",
      motorbike: "Motorbike",
      metres_minutes: "{m} m · {min} min",
      no_route: "no route",
      free_seats: "Free first-grade seats: {n}",
      free_seats_assumed: "Free first-grade seats: {n} (estimated from an assumed class count)",
      seats_unknown: "First-grade seats unknown",
      others: "Other schools in reach (by walking route)",
      other_line: "{name}: {m} m, {free}",
      free_short: "{n} seats free",
      version: "From the admission zone version “{name}”",
      no_zone: "This place lies in no admission zone.",
      no_api: "Road distances are on the service's own page.",
      bad_home: "Type latitude, longitude, e.g. 10.7790, 106.6860",
      level_mam_non: "Kindergarten",
      level_tieu_hoc: "Primary school",
      level_thcs: "Lower secondary school",
      level_thpt: "Upper secondary school",
      level_lien_cap: "Multi-level school",
      level_other: "Level unknown",
      address: "Address: {v}",
      phone: "Phone: {v}",
      email: "E-mail: {v}",
      website: "Website: {v}",
      seats: "First-grade seats: {n}",
      home: "Your home",
      error: "No answer: {v}"
    }
  };
  var LEVEL_MARK = { mam_non: "MN", tieu_hoc: "TH", thcs: "THCS", thpt: "THPT", lien_cap: "LC" };

  var common = window.SchoolGIS;
  var el = common.el;
  var fold = common.fold;
  var language = new common.Language(TEXT);
  var t = language.t.bind(language);
  var number = language.number.bind(language);
  var state = { home: null, answer: null, markers: {} };

  function ask(mode, lat, lon) {
    return common.getJSON(
      state.config.apiBase + "/api/v1/eligibility?lat=" + lat.toFixed(6) + "&lon=" + lon.toFixed(6) + "&mode=" + mode
    );
  }

  function panelPadding() {
    return common.panelPadding(state.map, document.getElementById("sg-panel"));
  }

  function minutes(seconds) {
    return Math.max(1, Math.round(seconds / 60));
  }

  function levelKey(level) {
    return LEVEL_MARK[level] ? level : "other";
  }

  function popupContent(school) {
    var lines = [el("h3", {}, [school.name]), el("p", {}, [t("level_" + levelKey(school.level))])];
    ["address", "phone", "email", "website"].forEach(function (field) {
      if (school[field]) {
        lines.push(el("p", {}, [t(field, { v: school[field] })]));
      }
    });
    if (school.level === "tieu_hoc" || school.level === "lien_cap") {
      if (school.first_grade_seats != null) {
        lines.push(el("p", {}, [t("seats", { n: number(school.first_grade_seats) })]));
      }
      if (school.free_first_grade_seats != null) {
        var key = school.seats_assumed ? "free_seats_assumed" : "free_seats";
        lines.push(el("p", {}, [t(key, { n: number(school.free_first_grade_seats) })]));
      } else if (school.first_grade_seats == null) {
        lines.push(el("p", {}, [t("seats_unknown")]));
      }
    }
    return el("div", { class: "sg-popup" }, lines);
  }

  function schoolLayer(map, schools) {
    var cluster = L.markerClusterGroup({
      disableClusteringAtZoom: 16,
      showCoverageOnHover: false,
      maxClusterRadius: 50
    });
    schools.forEach(function (school) {
      var key = levelKey(school.level);
      var marker = L.marker([school.lat, school.lon], {
        icon: L.divIcon({
          className: "",
          html:
            '<div class="sg-school sg-level-' + key + '" data-code="' + school.code + '">' +
            (LEVEL_MARK[school.level] || "?") + "</div>",
          iconSize: key === "tieu_hoc" ? [32, 32] : [28, 28]
        }),
        title: school.name,
        alt: school.name,
        keyboard: true,
        riseOnHover: true
      });
      marker.bindPopup(function () {
        return popupContent(school);
      });
      state.markers[school.code] = marker;
      cluster.addLayer(marker);
    });
    return cluster.addTo(map);
  }

  /* ---- search ---- */

  function searchItems() {
    var data = state.config.data;
    var items = [];
    data.schools.forEach(function (s) {
      items.push({ kind: "school", name: s.name, code: s.code });
    });
    data.wards.forEach(function (w) {
      items.push({ kind: "ward", name: w.name, code: w.code });
    });
    data.streets.forEach(function (s) {
      items.push({ kind: "street", name: s.name, lat: s.lat, lon: s.lon });
    });
    items.forEach(function (item) {
      item.folded = fold(item.name);
    });
    return items;
  }

  function showItem(item) {
    var map = state.map;
    if (item.kind === "school") {
      var marker = state.markers[item.code];
      state.schools.zoomToShowLayer(marker, function () {
        map.setView(marker.getLatLng(), Math.max(map.getZoom(), 17));
        marker.openPopup();
      });
    } else if (item.kind === "ward") {
      state.config.layers.wards.eachLayer(function (layer) {
        if (layer.feature.properties.code === item.code) {
          map.fitBounds(layer.getBounds());
        }
      });
    } else {
      map.setView([item.lat, item.lon], 17);
    }
  }

  function runSearch() {
    var input = document.getElementById("sg-search");
    var list = document.getElementById("sg-results");
    var count = document.getElementById("sg-search-count");
    list.textContent = "";
    var words = fold(input.value).split(" ").filter(Boolean);
    if (!words.length) {
      count.textContent = "";
      return;
    }
    var found = state.items.filter(function (item) {
      return words.every(function (word) {
        return item.folded.indexOf(word) >= 0;
      });
    });
    count.textContent = found.length ? t("found", { n: found.length }) : t("none_found");
    found.slice(0, 10).forEach(function (item) {
      var button = el("button", { type: "button", "data-kind": item.kind }, [
        item.name + " ",
        el("span", { class: "sg-kind" }, ["(" + t("kind_" + item.kind) + ")"])
      ]);
      button.addEventListener("click", function () {
        showItem(item);
      });
      list.appendChild(el("li", {}, [button]));
    });
  }

  /* ---- where can my child go? ---- */

  function insideRing(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function insidePolygon(rings, x, y) {
    return insideRing(rings[0], x, y) && !rings.slice(1).some(function (hole) {
      return insideRing(hole, x, y);
    });
  }

  /* The zone holding a point, from the zones in the page (used without an API). */
  function zoneAt(lat, lon) {
    var found = null;
    var zones = state.config.layers.zones;
    if (!zones) {
      return null;
    }
    zones.eachLayer(function (layer) {
      var geometry = layer.feature.geometry;
      var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
      if (polygons.some(function (rings) { return insidePolygon(rings, lon, lat); })) {
        found = layer.feature.properties;
      }
    });
    return found;
  }

  function figure(mode, school) {
    var value = school && school.distance_m != null
      ? t("metres_minutes", { m: number(school.distance_m), min: minutes(school.duration_s) })
      : t("no_route");
    var item = el("li", { "data-mode": mode }, [t(mode) + ": ", el("span", { class: "sg-figure" }, [value])]);
    if (school && school.distance_m != null) {
      item.setAttribute("data-distance-m", String(school.distance_m));
      item.setAttribute("data-duration-s", String(school.duration_s));
    }
    return item;
  }

  function freeText(school) {
    if (school.free_first_grade_seats == null) {
      return t("seats_unknown");
    }
    return t(school.seats_assumed ? "free_seats_assumed" : "free_seats", {
      n: number(school.free_first_grade_seats)
    });
  }

  function renderAnswer(answer) {
    var box = document.getElementById("sg-answer");
    box.textContent = "";
    if (answer.error) {
      box.appendChild(el("p", { class: "sg-error", role: "alert" }, [t("error", { v: answer.error })]));
      return;
    }
    if (answer.offline) {
      box.appendChild(el("h2", {}, [t("zone_school")]));
      box.appendChild(answer.offline.school_name
        ? el("p", { class: "sg-zone-school", "data-code": answer.offline.school_code }, [answer.offline.school_name])
        : el("p", {}, [t("no_zone")]));
      box.appendChild(el("p", { class: "sg-small" }, [t("no_api")]));
      return;
    }
    var walk = answer.walk;
    var bike = answer.motorbike;
    box.appendChild(el("h2", {}, [t("zone_school")]));
    if (!walk.zone_school) {
      box.appendChild(el("p", {}, [walk.reason || t("no_zone")]));
    } else {
      box.appendChild(
        el("p", { id: "sg-zone-school", class: "sg-zone-school", "data-code": walk.zone_school.code }, [walk.zone_school.name])
      );
      box.appendChild(el("ul", { class: "sg-figures" }, [
        figure("walk", walk.zone_school),
        figure("motorbike", bike && bike.zone_school),
        el("li", {}, [freeText(walk.zone_school)])
      ]));
      if (walk.reason) {
        box.appendChild(el("p", { class: "sg-small" }, [walk.reason]));
      }
    }
    if (walk.other_schools.length) {
      box.appendChild(el("h2", {}, [t("others")]));
      box.appendChild(el("ol", { class: "sg-others" }, walk.other_schools.map(function (s) {
        var free = s.free_first_grade_seats == null ? t("seats_unknown") : t("free_short", { n: number(s.free_first_grade_seats) });
        return el("li", { "data-code": s.code, "data-distance-m": String(s.distance_m) }, [
          t("other_line", { name: s.name, m: s.distance_m == null ? "–" : number(s.distance_m), free: free })
        ]);
      })));
    }
    box.appendChild(el("p", { class: "sg-small" }, [t("version", { name: walk.zone_version.name })]));
  }

  function setHome(lat, lon) {
    var map = state.map;
    if (state.home) {
      state.home.setLatLng([lat, lon]);
    } else {
      state.home = L.marker([lat, lon], {
        icon: L.divIcon({ className: "", html: '<div class="sg-home-pin"></div>', iconSize: [18, 18] }),
        title: t("home"),
        alt: t("home"),
        keyboard: false
      }).addTo(map);
    }
    if (state.route) {
      map.removeLayer(state.route);
      state.route = null;
    }
    document.getElementById("sg-home").value = lat.toFixed(6) + ", " + lon.toFixed(6);
    var box = document.getElementById("sg-answer");
    if (state.config.apiBase === null) {
      state.answer = { offline: zoneAt(lat, lon) || {} };
      renderAnswer(state.answer);
      return Promise.resolve();
    }
    box.setAttribute("aria-busy", "true");
    box.textContent = t("loading");
    return Promise.all([ask("walk", lat, lon), ask("motorbike", lat, lon)]).then(function (answers) {
      state.answer = { walk: answers[0], motorbike: answers[1] };
      if (answers[0].route) {
        var line = answers[0].route.coordinates.map(function (c) { return [c[1], c[0]]; });
        state.route = L.polyline(line, { color: "#0c4a7d", weight: 5, opacity: 0.85 }).addTo(map);
      }
      renderAnswer(state.answer);
      if (state.route) {
        map.fitBounds(state.route.getBounds().extend([lat, lon]), panelPadding());
      }
    }).catch(function (error) {
      state.answer = { error: error.message };
      renderAnswer(state.answer);
    }).then(function () {
      box.removeAttribute("aria-busy");
    });
  }

  function parseHome(text) {
    var parts = text.split(/[,;\s]+/).filter(Boolean).map(Number);
    if (parts.length !== 2 || parts.some(isNaN)) {
      return null;
    }
    return { lat: parts[0], lon: parts[1] };
  }

  function wire() {
    language.toggleWith(document.getElementById("sg-lang"));
    document.getElementById("sg-fold").addEventListener("click", function (event) {
      var panel = document.getElementById("sg-panel");
      var folded = panel.classList.toggle("sg-folded");
      event.currentTarget.setAttribute("aria-expanded", String(!folded));
      document.getElementById("sg-body").hidden = folded;
    });
    document.getElementById("sg-search").addEventListener("input", runSearch);
    document.getElementById("sg-search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var first = document.querySelector("#sg-results button");
      if (first) { first.click(); }
    });
    document.getElementById("sg-home-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var home = parseHome(document.getElementById("sg-home").value);
      if (!home) {
        state.answer = { error: t("bad_home") };
        renderAnswer(state.answer);
        return;
      }
      state.map.setView([home.lat, home.lon], Math.max(state.map.getZoom(), 15), { animate: false });
      setHome(home.lat, home.lon);
    });
    state.map.on("click", function (event) {
      setHome(event.latlng.lat, event.latlng.lng);
    });
  }

  function start(map, config) {
    state.map = map;
    state.config = config;
    /* the panel is not part of the map: clicks on it must not move the home */
    common.prepareMap(map, config.data, document.getElementById("sg-panel"));
    state.schools = schoolLayer(map, config.data.schools);
    config.control.addOverlay(state.schools, '<span data-i18n="layer_schools">Trường học</span>');
    state.items = searchItems();
    language.listeners.push(function () {
      if (state.answer) {
        renderAnswer(state.answer);
      }
      runSearch();
    });
    wire();
    language.apply();
  }

  window.SchoolMap = { start: start, setHome: setHome, fold: fold, state: state };
})();
