// Test-only stand-in for Google's https://apis.google.com/js/api.js (unreachable offline). The
// browser tests fulfil that one request with this file; it is never part of the shipped app.
//
// It implements the part of gapi.iframes that Firebase Auth's popup sign-in uses against the
// Auth emulator: the app page opens the emulator's helper iframe (context.open, ping, register,
// send), and the helper iframe talks back to its parent (getParentIframe, register, send). Both
// sides load this same file; messages travel with postMessage, tagged so nothing else reacts.
(function () {
  "use strict";
  var TAG = "__gapi_stub__";
  var nextId = 1;
  var replies = {};
  var frames = [];

  function Frame(getWindow) {
    this.getWindow = getWindow;
    this.handlers = {};
    this.queued = [];
    this.ready = false;
    this.waiting = [];
  }
  Frame.prototype.post = function (message) {
    message[TAG] = true;
    var target = this.getWindow();
    if (target) target.postMessage(message, "*");
  };
  Frame.prototype.register = function (name, handler) {
    this.handlers[name] = handler;
    var still = [];
    for (var i = 0; i < this.queued.length; i++) {
      if (this.queued[i].name === name) this.answer(this.queued[i]);
      else still.push(this.queued[i]);
    }
    this.queued = still;
  };
  Frame.prototype.unregister = function (name) {
    delete this.handlers[name];
  };
  Frame.prototype.answer = function (call) {
    var result = this.handlers[call.name](call.data);
    this.post({ kind: "reply", id: call.id, result: [result] });
  };
  Frame.prototype.send = function (name, data, callback) {
    var id = String(nextId++) + ":" + Math.random();
    if (callback) replies[id] = callback;
    this.post({ kind: "call", id: id, name: name, data: data });
  };
  Frame.prototype.ping = function (callback) {
    var self = this;
    return new Promise(function (resolve) {
      var done = function () {
        if (callback) callback();
        resolve(self);
      };
      if (self.ready) done();
      else self.waiting.push(done);
    });
  };
  Frame.prototype.restyle = function () {
    return Promise.resolve();
  };
  Frame.prototype.getSiteEl = function () {
    return this.element || null;
  };

  function frameOf(source) {
    for (var i = 0; i < frames.length; i++) if (frames[i].getWindow() === source) return frames[i];
    return null;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || !data[TAG]) return;
    var frame = frameOf(event.source);
    if (!frame) return;
    if (data.kind === "ready") {
      frame.ready = true;
      var waiting = frame.waiting;
      frame.waiting = [];
      for (var i = 0; i < waiting.length; i++) waiting[i]();
    } else if (data.kind === "call") {
      if (frame.handlers[data.name]) frame.answer(data);
      else frame.queued.push(data);
    } else if (data.kind === "reply" && replies[data.id]) {
      var callback = replies[data.id];
      delete replies[data.id];
      callback(data.result);
    }
  });

  var parentFrame = null;
  var context = {
    open: function (options, onOpened) {
      var element = document.createElement("iframe");
      var attributes = options.attributes || {};
      Object.keys(attributes).forEach(function (name) {
        if (name === "style") Object.assign(element.style, attributes.style);
        else element.setAttribute(name, attributes[name]);
      });
      element.src = options.url;
      var frame = new Frame(function () {
        return element.contentWindow;
      });
      frame.element = element;
      frames.push(frame);
      (options.where || document.body).appendChild(element);
      return Promise.resolve(onOpened ? onOpened(frame) : frame);
    },
    getParentIframe: function () {
      if (!parentFrame) {
        parentFrame = new Frame(function () {
          return window.parent;
        });
        frames.push(parentFrame);
        parentFrame.post({ kind: "ready" });
      }
      return parentFrame;
    },
  };

  var iframes = {
    CROSS_ORIGIN_IFRAMES_FILTER: function () {
      return true;
    },
    getContext: function () {
      return context;
    },
  };

  window.gapi = window.gapi || {};
  window.gapi.load = function (modules, options) {
    var callback = typeof options === "function" ? options : options && options.callback;
    window.gapi.iframes = iframes;
    window.gapi.iframes.Iframe = Frame;
    if (callback) setTimeout(callback, 0);
  };

  // api.js calls back the name in its ?onload= parameter, or window.gapi_onload.
  var script = document.currentScript;
  var onload = script && script.src ? new URL(script.src).searchParams.get("onload") : null;
  setTimeout(function () {
    if (onload && typeof window[onload] === "function") window[onload]();
    else if (typeof window.gapi_onload === "function") window.gapi_onload();
  }, 0);
})();
